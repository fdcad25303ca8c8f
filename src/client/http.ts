/**
 * HTTP to a list of coordinators with failover.
 *
 * A request goes to the coordinator that last answered; on a connection error, a timeout or a
 * 5xx it moves on to the next URL after a jittered backoff, round the list until the retry
 * budget is spent. A 4xx is the caller's problem and is never retried elsewhere. Every POST
 * carries an idempotency key, generated once per logical request and reused on every retry, so
 * a write that reached a coordinator before its answer got lost is not applied twice.
 */
import type { ClientConfig } from "../config";
import type { ErrorBody } from "../api";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
    readonly url: string,
  ) {
    super(body.field === undefined || body.message.startsWith(body.field) ? body.message : `${body.field}: ${body.message}`);
    this.name = "ApiError";
  }
}

/** Every coordinator failed or timed out for the whole retry budget. */
export class UnavailableError extends Error {
  constructor(
    message: string,
    readonly lastError: unknown,
  ) {
    super(message);
    this.name = "UnavailableError";
  }
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  idempotencyKey?: string;
  /** Server-side wait of a long poll: added to the request timeout. */
  longPollMs?: number;
  /** Give up after this long across all coordinators and retries. */
  retryBudgetMs?: number;
  signal?: AbortSignal;
}

export interface HttpClientOptions {
  /** Default retry budget; 0 means one try of each coordinator. */
  retryBudgetMs?: number;
  onFailover?: (from: string, reason: string) => void;
  /** The token to send, asked on every request (a host's credential, once it has one); undefined: config.token. */
  token?: () => string | undefined;
}

const BACKOFF_BASE_MS = 50;
const BACKOFF_MAX_MS = 2_000;

export class HttpClient {
  private preferred = 0;

  constructor(
    readonly config: ClientConfig,
    private readonly options: HttpClientOptions = {},
  ) {}

  get currentUrl(): string {
    return this.config.coordinatorUrls[this.preferred]!;
  }

  async request<T>(method: "GET" | "POST", path: string, options: RequestOptions = {}): Promise<T> {
    const urls = this.config.coordinatorUrls;
    const idempotencyKey = options.idempotencyKey ?? (method === "POST" ? newIdempotencyKey() : undefined);
    const budget = options.retryBudgetMs ?? this.options.retryBudgetMs ?? 30_000;
    const giveUpAt = Date.now() + budget;
    const search = queryString(options.query);
    let lastError: unknown;
    for (let attempt = 0; ; attempt++) {
      const base = urls[this.preferred]!;
      try {
        const response = await this.send(base + path + search, method, idempotencyKey, options);
        if (response.status < 500) return await this.parse<T>(response, base + path);
        lastError = new Error(`${base} answered ${response.status}: ${await response.text()}`);
      } catch (error) {
        if (error instanceof ApiError || options.signal?.aborted) throw error;
        lastError = error;
      }
      this.options.onFailover?.(base, describe(lastError));
      this.preferred = (this.preferred + 1) % urls.length;
      const triedEveryUrlOnce = attempt + 1 >= urls.length;
      if (triedEveryUrlOnce && Date.now() >= giveUpAt) {
        throw new UnavailableError(`no coordinator answered (${urls.join(", ")}): ${describe(lastError)}`, lastError);
      }
      await Bun.sleep(jitteredBackoffMs(Math.floor(attempt / urls.length)));
    }
  }

  private async send(url: string, method: string, idempotencyKey: string | undefined, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json" };
    const token = this.options.token?.() ?? this.config.token;
    if (token !== undefined) headers["x-skyclaw-token"] = token;
    if (idempotencyKey !== undefined) headers["x-idempotency-key"] = idempotencyKey;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const timeout = AbortSignal.timeout(this.config.requestTimeoutMs + (options.longPollMs ?? 0));
    return fetch(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]),
    });
  }

  private async parse<T>(response: Response, url: string): Promise<T> {
    const text = await response.text();
    let body: unknown;
    try {
      body = text === "" ? null : JSON.parse(text);
    } catch {
      throw new ApiError(response.status, { error: "invalid_response", message: `${url} answered ${response.status} with non-JSON: ${text.slice(0, 200)}` }, url);
    }
    if (response.ok) return body as T;
    const error = body as Partial<ErrorBody> | null;
    throw new ApiError(
      response.status,
      {
        error: error?.error ?? `http_${response.status}`,
        message: error?.message ?? `${url} answered ${response.status}`,
        ...(error?.field !== undefined && { field: error.field }),
      },
      url,
    );
  }
}

/**
 * Time-ordered (UUIDv7), so the coordinator's index of idempotency records grows at its end:
 * random keys would dirty a different B-tree page per request and multiply the bytes every
 * durable commit writes (measured by bench/: ~2.4x the WAL frames per commit).
 */
export function newIdempotencyKey(): string {
  return `skyclaw-${Bun.randomUUIDv7()}`;
}

function jitteredBackoffMs(round: number): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** round);
  return Math.floor(ceiling / 2 + Math.random() * (ceiling / 2));
}

function queryString(query: RequestOptions["query"]): string {
  if (query === undefined) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.name === "TimeoutError" ? "timed out" : error.message;
  return String(error);
}
