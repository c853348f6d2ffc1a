/** The CSV import file format: the implementation of the core's ImportFileFormat port. */
import type { FileInfo, ImportFileFormat } from "../core/import/files.ts";
import { readCsv } from "./read.ts";
import { importTemplate } from "./template.ts";
import type { CsvFileInfo } from "./types.ts";
import { createRowValidator } from "./validate.ts";
import { directoryCsv, errorReportCsv, resultsCsv } from "./write.ts";

/** The delimiter the upload was read with (stored on the batch as JSON), so what the bot sends back matches it. */
function delimiterOf(info: FileInfo | undefined): CsvFileInfo["delimiter"] {
  const delimiter = (info as Partial<CsvFileInfo> | undefined)?.delimiter;
  return delimiter === ";" || delimiter === "\t" ? delimiter : ",";
}

/** Imports read and written as CSV (what src/main.ts gives the core). */
export const csvImportFormat: ImportFileFormat = {
  open: (bytes) => readCsv(bytes),
  validator: (directory, options) => createRowValidator(directory, options),
  errorReport: (pages, info) => errorReportCsv(pages, delimiterOf(info)),
  resultsFile: (pages, info) => resultsCsv(pages, delimiterOf(info)),
  template: () => importTemplate(),
  directoryFile: (pages) => directoryCsv(pages),
};
