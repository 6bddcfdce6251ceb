/** Variables the service reads; inherited values are dropped so the bench runs on defaults. */
const serviceVars = [
  'PORT', 'HOST', 'DATA_DIR', 'MAX_UPLOAD_BYTES', 'WORKER_CONCURRENCY', 'SIGNUP_OPEN', 'SESSION_SECRET',
  'SESSION_TTL_HOURS', 'LOGIN_RATE_LIMIT', 'STALL_TIMEOUT_SECONDS', 'FFMPEG_PATH', 'FFPROBE_PATH', 'LOG_LEVEL', 'TRUST_PROXY', 'SIGNUP_RATE_LIMIT', 'UPLOAD_IDLE_SECONDS', 'MAX_INPUT_SECONDS', 'MAX_OUTPUT_BYTES', 'EVENT_STREAMS_PER_USER', 'API_RATE_LIMIT',
];

/** The environment for a service child: loopback only, quiet logs, default MAX_UPLOAD_BYTES. */
export function serviceEnv(dataDir: string, port: number, workerConcurrency: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of serviceVars) delete env[name];
  return {
    ...env,
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    WORKER_CONCURRENCY: String(workerConcurrency),
    // Benches send thousands of requests from one account: the per-token limit (0: off) would turn
    // them into 429s and measure the limiter instead of the service.
    API_RATE_LIMIT: '0',
  };
}
