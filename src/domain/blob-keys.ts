/** Where a file's bytes live in blob storage. Keys never contain user text. */
export const fileBlobPrefix = (fileId: string) => `files/${fileId}`;
export const inputKey = (fileId: string) => `${fileBlobPrefix(fileId)}/input`;
