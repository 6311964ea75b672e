// SPDX-License-Identifier: MIT
// The HTML report of a run: writeReport(path, data) and the types it takes.
export { renderReport, writeReport } from './writeReport.js';
export type { BaselineValues, ImageScore, MetricName, MetricValues, ReportData, ReportSummary, TestImage } from './reportData.js';
export type { ImageSource } from './images.js';
export { type LiveStatus, markReportStopped, trainingProgress } from './live.js';
export { worstAndBestOf } from './results.js';
