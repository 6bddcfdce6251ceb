/**
 * Ctrl-C during a long upload: the first one stops cleanly (uploads aborted with their bytes left
 * on the server, a summary printed, exit 130), so running the same command again resumes; a
 * second one quits at once for someone who really means it.
 */
export function onInterrupt(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handler = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
