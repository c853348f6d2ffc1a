/** The CSV import file format: the implementation of the core's ImportFileFormat port. */
import type { ImportFileFormat } from "../core/import/files.ts";
import { readCsv } from "./read.ts";
import { importTemplate } from "./template.ts";
import { createRowValidator } from "./validate.ts";
import { directoryCsv, errorReportCsv } from "./write.ts";

/** Imports read and written as CSV (what src/main.ts gives the core). */
export const csvImportFormat: ImportFileFormat = {
  open: (bytes) => readCsv(bytes),
  validator: (directory, options) => createRowValidator(directory, options),
  errorReport: (rows) => errorReportCsv(rows),
  template: () => importTemplate(),
  directoryFile: (pages) => directoryCsv(pages),
};
