/**
 * Every error the API returns is `{error, field?, message}` with a 4xx status (5xx only for
 * our own bugs or an unavailable store). This module turns refusals, validation failures and
 * unexpected throws into that shape.
 */
import type { ErrorBody } from "../api";
import type { CommandError, CommandErrorCode } from "../state/commands";

const STATUS_BY_CODE: Record<CommandErrorCode, number> = {
  not_found: 404,
  stale_attempt: 409,
  invalid_state: 409,
  duplicate_id: 409,
  idempotency_conflict: 409,
  host_not_active: 409,
  internal: 500,
};

/** Thrown by route code; the app's error hook renders it. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
  }

  static fromCommand(error: CommandError): HttpError {
    return new HttpError(STATUS_BY_CODE[error.code], {
      error: error.code,
      message: error.message,
      ...(error.field === undefined ? {} : { field: error.field }),
    });
  }

  static badRequest(field: string, message: string): HttpError {
    return new HttpError(400, { error: "invalid_request", field, message: `${field}: ${message}` });
  }
}

interface SchemaLike {
  description?: string;
  const?: unknown;
  anyOf?: SchemaLike[];
  type?: string;
  minimum?: number;
  maximum?: number;
}

interface ValueErrorLike {
  path: string;
  message: string;
  schema?: SchemaLike;
}

/** A TypeBox validation failure of `where` (body, query, params, headers) as one clear sentence. */
export function validationErrorBody(where: string, errors: readonly ValueErrorLike[]): ErrorBody {
  const first = errors[0];
  if (first === undefined) return { error: "invalid_request", message: `${where} is not valid` };
  const path = first.path.replace(/^\//, "").replaceAll("/", ".");
  const field = path === "" ? where : path;
  return { error: "invalid_request", field, message: `${field}: ${describe(first)}` };
}

function describe(error: ValueErrorLike): string {
  const schema = error.schema;
  if (error.message === "Unexpected property") return "is not a known field";
  const choices = schema?.anyOf?.map((option) => option.const);
  if (choices !== undefined && choices.length > 0 && choices.every((choice) => choice !== undefined)) {
    return `must be one of: ${choices.join(", ")}`;
  }
  // A body's integer is one schema; a query's (t.Integer, t.Numeric) is a union with a numeric string.
  const numeric = (schema?.anyOf ?? (schema === undefined ? [] : [schema])).filter((option) => option.type === "number" || option.type === "integer");
  if (numeric.length > 0) {
    const bounds = [numeric.find((option) => option.minimum !== undefined)?.minimum, numeric.find((option) => option.maximum !== undefined)?.maximum];
    return bounds[0] !== undefined && bounds[1] !== undefined ? `must be a number from ${bounds[0]} to ${bounds[1]}` : "must be a number";
  }
  if (schema?.description !== undefined && /match/i.test(error.message)) return `must be a ${schema.description}`;
  return error.message.charAt(0).toLowerCase() + error.message.slice(1);
}
