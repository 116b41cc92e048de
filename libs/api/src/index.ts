export { appRouter, type AppRouter } from './root.ts';
export { type ApiContext, type ApiErrorCode } from './init.ts';
export { groupRows, leaderboardPage, plotColumns, rankConfigurations, stoppedConfigurations, type StoppedEntry, type StoppedPage, type StoppedSeed, type StoppedRow, type LeaderboardEntry, type LeaderboardPage, type LeaderboardPlot, type LeaderboardGroup, type LeaderboardRow, type LeaderboardSort, type Interval } from './leaderboard.ts';
export { TrialsQuery, TrialStatus, TrialSort } from './routers/trials.ts';
export { inlineSpecChecks, SpecChecksBusyError, type SpecChecks, type SpecValidationAnswer, type ValidateOptions } from './spec-checks.ts';
export { apiCurves, type ApiCurve, type ApiCurvePoint } from './curves.ts';
