/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for tests: it throws on
 * anything a scraper would reject or misread, and checks the rules a well-formed exposition
 * keeps (one TYPE per family before its samples, counters named *_total, cumulative histogram
 * buckets whose +Inf bucket equals _count).
 */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help: string | undefined;
  samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

export function parsePrometheusText(text: string): Map<string, PromFamily> {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  const families = new Map<string, PromFamily>();
  const helps = new Map<string, string>();
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((line, i) => {
    const where = `line ${i + 1} (${JSON.stringify(line)})`;
    if (line.startsWith("#")) {
      const comment = line.match(/^# (HELP|TYPE) (\S+) ?(.*)$/);
      if (comment === null) return; // a plain comment
      const [, kind, name, rest] = comment as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name`);
      if (kind === "HELP") {
        if (helps.has(name)) throw new Error(`${where}: second HELP for ${name}`);
        helps.set(name, rest);
        return;
      }
      if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
      if (families.has(name)) throw new Error(`${where}: second TYPE for ${name}`);
      families.set(name, { name, type: rest as PromFamily["type"], help: undefined, samples: [] });
      return;
    }
    if (line.trim() === "") throw new Error(`${where}: empty line`);
    const sample = parseSample(line, where);
    const family = familyOf(families, sample.name);
    if (family === undefined) throw new Error(`${where}: sample ${sample.name} has no # TYPE declared before it`);
    family.samples.push(sample);
  });
  for (const family of families.values()) {
    family.help = helps.get(family.name);
    if (family.type === "counter" && !family.name.endsWith("_total")) throw new Error(`counter ${family.name} does not end in _total`);
    if (family.type === "histogram") checkHistogram(family);
  }
  return families;
}

/** The one value of `name` with exactly these labels, or undefined. */
export function sampleValue(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = familyOf(families, name);
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const found = family?.samples.filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted) ?? [];
  if (found.length > 1) throw new Error(`${name} ${wanted} appears ${found.length} times`);
  return found[0]?.value;
}

function familyOf(families: Map<string, PromFamily>, sampleName: string): PromFamily | undefined {
  const direct = families.get(sampleName);
  if (direct !== undefined && direct.type !== "histogram" && direct.type !== "summary") return direct;
  const base = sampleName.replace(/_(bucket|sum|count)$/, "");
  const family = families.get(base);
  if (family !== undefined && (family.type === "histogram" || family.type === "summary") && base !== sampleName) return family;
  return undefined;
}

function parseSample(line: string, where: string): PromSample {
  const head = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)/);
  if (head === null) throw new Error(`${where}: no metric name`);
  const name = head[1]!;
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith("{")) {
    rest = rest.slice(1);
    while (!rest.startsWith("}")) {
      const label = rest.match(/^([^=]*)="((?:[^"\\\n]|\\[\\"n])*)"(,?)/);
      if (label === null) throw new Error(`${where}: malformed labels`);
      const [whole, labelName, raw, comma] = label as unknown as [string, string, string, string];
      if (!LABEL_NAME.test(labelName)) throw new Error(`${where}: bad label name ${labelName}`);
      if (labelName in labels) throw new Error(`${where}: label ${labelName} twice`);
      labels[labelName] = raw.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
      rest = rest.slice(whole.length);
      if (comma === "" && !rest.startsWith("}")) throw new Error(`${where}: labels not separated by commas`);
    }
    rest = rest.slice(1);
  }
  const value = rest.match(/^ (\S+)( -?\d+)?$/);
  if (value === null) throw new Error(`${where}: expected " value [timestamp]" after the name and labels`);
  return { name, labels, value: parseValue(value[1]!, where) };
}

function parseValue(text: string, where: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: "${text}" is not a number`);
  return Number(text);
}

function checkHistogram(family: PromFamily): void {
  const series = new Map<string, PromSample[]>();
  const keyOf = (labels: Record<string, string>) =>
    JSON.stringify(Object.entries(labels).filter(([name]) => name !== "le").sort());
  for (const sample of family.samples) {
    const key = keyOf(sample.labels);
    series.set(key, [...(series.get(key) ?? []), sample]);
  }
  for (const [key, samples] of series) {
    const buckets = samples.filter((s) => s.name === `${family.name}_bucket`);
    const count = samples.find((s) => s.name === `${family.name}_count`);
    const sum = samples.find((s) => s.name === `${family.name}_sum`);
    if (count === undefined || sum === undefined) throw new Error(`${family.name} ${key}: missing _count or _sum`);
    let previousBound = -Infinity;
    let previousCount = 0;
    for (const bucket of buckets) {
      if (bucket.labels.le === undefined) throw new Error(`${family.name} ${key}: a bucket without le`);
      const bound = parseValue(bucket.labels.le, `${family.name} le`);
      if (bound <= previousBound) throw new Error(`${family.name} ${key}: le ${bound} not ascending`);
      if (bucket.value < previousCount) throw new Error(`${family.name} ${key}: bucket le=${bound} is not cumulative`);
      previousBound = bound;
      previousCount = bucket.value;
    }
    if (previousBound !== Infinity) throw new Error(`${family.name} ${key}: no +Inf bucket last`);
    if (previousCount !== count.value) throw new Error(`${family.name} ${key}: +Inf bucket ${previousCount} != _count ${count.value}`);
  }
}
