export { startCoordinator, CoordinatorConfigError, type Coordinator, type CoordinatorOptions } from './server.ts';
export { coordinatorEnv, connectionLimits, parseAllowedHosts, type CoordinatorEnv } from './env.ts';
export { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './connection-limits.ts';
export { tokenMatches } from './auth.ts';
export { isLoopback } from './address.ts';
export { findDataset, datasetDirs, REPO_ROOT } from './datasets.ts';
export { DEFAULT_CLAIM_LIMITS, type ClaimLimits } from './claim-limits.ts';
