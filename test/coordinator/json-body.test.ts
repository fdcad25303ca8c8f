import { describe, expect, test } from "bun:test";
import { HttpError } from "../../src/coordinator/http-errors";
import { parseJsonBody } from "../../src/coordinator/json-body";

const refusal = (text: string) => {
  try {
    parseJsonBody(text);
  } catch (error) {
    return error instanceof HttpError ? error.body : error;
  }
  return undefined;
};

describe("parseJsonBody", () => {
  test("65 levels are refused, 64 parse", () => {
    expect(refusal("[".repeat(65) + "]".repeat(65))).toMatchObject({ error: "invalid_json" });
    expect(parseJsonBody("[".repeat(64) + "]".repeat(64))).toBeArray();
  });

  test("an object with a toString or valueOf key can still become a string, however the key is spelled", () => {
    for (const text of ['{"toString":1}', '{"valueOf":{}}', '{"to\\u0053tring":1}', '[{"val\\u0075eOf":"x"}]']) {
      const value = parseJsonBody(text);
      expect(() => String(value)).not.toThrow();
      expect(() => String((value as unknown[])[0] ?? value)).not.toThrow();
    }
  });

  test("the conversion guard is not a key of the data", () => {
    expect(JSON.stringify(parseJsonBody('{"to\\u0053tring":1,"a":[{"valueOf":2}]}'))).toBe('{"toString":1,"a":[{"valueOf":2}]}');
  });

  test("an empty body is {}", () => {
    expect(parseJsonBody(" \n")).toEqual({});
  });
});
