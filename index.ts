// The library API: `import { bestConfig } from 'flexfarm'`. Explicit exports only; everything
// else is internal and may change.

// Using tuning results (TVM's apply-history-best, export, report, transfer).
export { bestConfig, bestEntry, bestPerWorkloadDevice, openLog, RecordsNotFoundError } from './coordinator/best.ts';
export type { BestEntry, BestQuery } from './coordinator/best.ts';
export { exportKernel } from './cli/export-kernel.ts';
export { ExportError } from './coordinator/export/export-kernel.ts';
export type { ExportOptions, ExportResult } from './coordinator/export/export-kernel.ts';
export { writeReport } from './coordinator/report/write-report.ts';
export { adaptConfig, transferSeeds, transferSeedsFromLog } from './coordinator/transfer.ts';
export type { TransferOptions, TransferSeed } from './coordinator/transfer.ts';

// The tuning log.
export { RecordLog, RecordFormatError, RECORD_FORMAT_VERSION } from './coordinator/records.ts';
export type { ReferenceRecord, RemeasureRecord, TuningRecord } from './coordinator/records.ts';

// Tuning from code.
export { tune } from './cli/embedded-tune.ts';
export type { TuneOptions, TuneOutcome } from './coordinator/tune.ts';
export { createBackend } from './agent/backends/index.ts';
export { defineFromKey, defineWorkload, workloadKey } from './tensor/ops/registry.ts';
export type { Config } from './tensor/templates/template.ts';
export type { MeasureResult } from './contracts/result.ts';
export type { TimingSpread } from './contracts/timing-spread.ts';
export type { NoiseSummary } from './coordinator/noise.ts';
