import { describe, expect, it } from "vitest";
import { describeUrl } from "../../src/db/database.ts";

describe("describeUrl: what start-up errors and logs say about DATABASE_URL", () => {
  it.each([
    ["postgresql://hms:s3cret@db.internal:5432/hms", "PostgreSQL at postgresql://hms:***@db.internal:5432/hms"],
    [
      "postgresql://hms@db.internal/hms?password=s3cret&sslmode=require",
      "PostgreSQL at postgresql://hms@db.internal/hms?password=***&sslmode=require",
    ],
    ["postgresql://hms@db.internal/hms?sslpassword=s3cret", "PostgreSQL at postgresql://hms@db.internal/hms?sslpassword=***"],
    ["postgresql://db.internal/hms", "PostgreSQL at postgresql://db.internal/hms"],
    ["not a url s3cret", "PostgreSQL (DATABASE_URL is not a valid URL)"],
  ])("%s → %s", (url, described) => {
    expect(describeUrl(url)).toBe(described);
    expect(describeUrl(url)).not.toContain("s3cret");
  });
});
