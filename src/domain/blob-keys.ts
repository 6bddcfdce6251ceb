/** Where a file's bytes live in blob storage. Keys never contain user text. */
export const fileBlobPrefix = (fileId: string) => `files/${fileId}`;
export const inputKey = (fileId: string) => `${fileBlobPrefix(fileId)}/input`;
/** Scratch of a segmented transcode: parts' encodes wait here for the join, never under `files/`. */
export const segmentScratchPrefix = (fileId: string, generation?: number) =>
  generation === undefined ? `segments/${fileId}` : `segments/${fileId}/g${generation}`;
export const partScratchPrefix = (fileId: string, generation: number, part: number) => `${segmentScratchPrefix(fileId, generation)}/p${part}`;
