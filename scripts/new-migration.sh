#!/usr/bin/env bash
# Authors a migration from the difference between the committed schema and the working one:
#   bash scripts/new-migration.sh add_import_batches
# `prisma migrate dev` cannot run here (its shadow database needs native engines), so this
# diffs the two schema files instead. Review the SQL, add anything Prisma cannot express
# (expression indexes, CHECK constraints), then commit it with the schema.
set -euo pipefail
name=${1:?usage: scripts/new-migration.sh <snake_case_name>}
cd "$(dirname "$0")/.."
prev=$(mktemp)
trap 'rm -f "$prev"' EXIT
if git cat-file -e HEAD:prisma/schema.prisma 2>/dev/null; then
  git show HEAD:prisma/schema.prisma > "$prev"
  from=(--from-schema-datamodel "$prev")
else
  from=(--from-empty)
fi
dir="prisma/migrations/$(date -u +%Y%m%d%H%M%S)_${name}"
mkdir -p "$dir"
# An in-memory PGlite: the diff needs no database, and the CLI must not hold ./data open.
DATA_DIR=memory:// npx prisma migrate diff "${from[@]}" --to-schema-datamodel prisma/schema.prisma --script > "$dir/migration.sql"
echo "wrote $dir/migration.sql"
