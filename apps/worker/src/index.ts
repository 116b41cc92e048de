export { startWorker, workerUrl, type WorkerHandle, type WorkerOptions, type BackendChoice } from './agent.ts';
