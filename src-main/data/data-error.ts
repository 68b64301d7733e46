// The one error a malformed data set raises: names the file, the row/column and what was expected.
import { ApiError } from '../api/contract.ts';

export interface DataErrorWhere {
  file: string;
  /** 1-based line / sample number. */
  row?: number;
  /** 1-based column number or column name. */
  column?: number | string;
}

/** ApiError('invalid-data') with a message that starts with "file, row r, column c:". */
export function dataError(where: DataErrorWhere, what: string): ApiError {
  const parts = [where.file];
  if (where.row !== undefined) parts.push(`row ${where.row}`);
  if (where.column !== undefined) parts.push(`column ${where.column}`);
  const field = [where.file, where.row, where.column].filter((p) => p !== undefined).join('.');
  return new ApiError('invalid-data', `${parts.join(', ')}: ${what}`, field);
}
