export { startCoordinator, type Coordinator, type CoordinatorOptions } from './server.ts';
export { findDataset, datasetDirs, REPO_ROOT } from './datasets.ts';
