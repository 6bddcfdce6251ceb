/** Forms and JSON bodies; uploads are multipart and limited by MAX_UPLOAD_BYTES instead. */
export const JSON_BODY_LIMIT = 1024 * 1024;
