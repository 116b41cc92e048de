export { startWorker, workerUrl, UnauthorizedError, type WorkerHandle, type WorkerOptions, type BackendChoice } from './agent.ts';
