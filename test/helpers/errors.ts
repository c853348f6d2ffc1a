import { AppError } from "../../src/core/errors.ts";

/** The AppError a call fails with; fails the test if it succeeds or throws something else. */
export async function appErrorOf(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected the call to fail with an AppError");
}
