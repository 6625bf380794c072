import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The project's search attributes: operators filter the Temporal UI with them and `mlpipe pending`
 * queries them. The dev-server launcher registers them (src/temporal/search-attributes.ts).
 */
export const PipelineKind = defineSearchAttributeKey('PipelineKind', SearchAttributeType.KEYWORD);
export const ModelName = defineSearchAttributeKey('ModelName', SearchAttributeType.KEYWORD);
export const PipelineStage = defineSearchAttributeKey('PipelineStage', SearchAttributeType.KEYWORD);
export const FeatureSet = defineSearchAttributeKey('FeatureSet', SearchAttributeType.KEYWORD);
export const Partition = defineSearchAttributeKey('Partition', SearchAttributeType.KEYWORD);

/** Set by Temporal on runs a Schedule starts: the time the run was due (not when it started). */
export const ScheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export const ALL_SEARCH_ATTRIBUTES = [PipelineKind, ModelName, PipelineStage, FeatureSet, Partition];
