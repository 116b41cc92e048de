export { startCoordinator, CoordinatorConfigError, MAX_API_BODY_BYTES, type Coordinator, type CoordinatorOptions } from './server.ts';
export { coordinatorEnv, connectionLimits, parseAllowedHosts, type CoordinatorEnv } from './env.ts';
export { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './connection-limits.ts';
export { tokenMatches, isLoopbackHost } from './auth.ts';
export { findDataset, datasetDirs, REPO_ROOT } from './datasets.ts';
export { DEFAULT_CLAIM_LIMITS, type ClaimLimits } from './claim-limits.ts';
