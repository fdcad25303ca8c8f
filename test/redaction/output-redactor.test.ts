/** The redactor alone: whole and split secrets, overlapping secrets, short values, held text. */
import { describe, expect, test } from "bun:test";
import { OutputRedactor, REDACTED, secretValues } from "../../src/host/output-redaction";
import { Prng } from "../sim/prng";

const run = (secrets: string[], pieces: string[]) => {
  const redactor = new OutputRedactor(secrets);
  return pieces.map((piece) => redactor.push(piece)).join("") + redactor.end();
};

describe("secretValues", () => {
  test("takes values of secret-looking names (any case), skips short values and other names", () => {
    const env = {
      GITHUB_TOKEN: "ghp_abcdef",
      api_key: "key-12345",
      DB_PASSWORD: "hunter22",
      Client_Secret: "s3cr3t!!",
      TOKEN: "plain-token",
      PASSWORD: "pw-long-enough",
      SHORT_TOKEN: "abc",
      MONKEY: "not-a-secret-name",
      TOKENS: "not-either",
      KEYBOARD: "nor-this",
      HOME: "/home/x",
    };
    expect(secretValues(env).sort()).toEqual(["ghp_abcdef", "hunter22", "key-12345", "plain-token", "pw-long-enough", "s3cr3t!!"].sort());
  });
});

describe("OutputRedactor", () => {
  test("replaces a secret written in one piece, every time it occurs", () => {
    expect(run(["hunter22"], ["pw=hunter22; again hunter22\n"])).toBe(`pw=${REDACTED}; again ${REDACTED}\n`);
  });

  test("replaces a secret cut across pieces, one character at a time included", () => {
    expect(run(["hunter22"], ["pw=hun", "ter22 done\n"])).toBe(`pw=${REDACTED} done\n`);
    expect(run(["hunter22"], [..."pw=hunter22!"])).toBe(`pw=${REDACTED}!`);
  });

  test("the longer of two secrets that start alike wins even when the shorter completes first", () => {
    expect(run(["abcdef", "abcd"], ["x abcd", "ef y abcd z"])).toBe(`x ${REDACTED} y ${REDACTED} z`);
  });

  test("emits text that cannot start a secret at once, and holds only a possible start", () => {
    const redactor = new OutputRedactor(["hunter22"]);
    expect(redactor.push("progress 50%\n")).toBe("progress 50%\n");
    expect(redactor.push("pw=hunt")).toBe("pw=");
    expect(redactor.push("ing season")).toBe("hunting season");
    expect(redactor.end()).toBe("");
  });

  test("never splits a surrogate pair when holding text back", () => {
    // The secret starts with the second half of 😀: holding from there would cut the pair.
    const redactor = new OutputRedactor(["\ude00zz"]);
    const emitted = redactor.push("a😀");
    expect(emitted).toBe("a");
    expect(emitted + redactor.end()).toBe("a😀");
  });

  test("any way of cutting the output gives the same result as redacting it whole", () => {
    const prng = new Prng(7);
    const secrets = ["s3cr3t", "s3cr3t-longer", "abab", "tok€n😀x"];
    const words = [...secrets, "s3c", "r3t", "ab", "a", "b", "tok€", "n😀", "x", " ", "\n", "😀"];
    const sorted = [...secrets].sort((a, b) => b.length - a.length);
    const whole = (text: string) => text.replace(new RegExp(sorted.map((s) => RegExp.escape(s)).join("|"), "g"), REDACTED);
    for (let round = 0; round < 300; round++) {
      const text = Array.from({ length: prng.int(1, 40) }, () => prng.pick(words)).join("");
      const pieces: string[] = [];
      for (let at = 0; at < text.length; ) {
        let next = Math.min(text.length, at + prng.int(1, 8));
        if (next < text.length && text.charCodeAt(next - 1) >= 0xd800 && text.charCodeAt(next - 1) <= 0xdbff) next++;
        pieces.push(text.slice(at, next));
        at = next;
      }
      expect(run(sorted, pieces)).toBe(whole(text));
    }
  });

  test("with no secrets, text passes through untouched and nothing is held", () => {
    const redactor = new OutputRedactor([]);
    expect(redactor.push("anything")).toBe("anything");
    expect(redactor.end()).toBe("");
  });
});
