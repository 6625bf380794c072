import weather from '../project/template/specs/weather';
import type { SpecInput } from './spec-schema';

/**
 * The second bundled example is the spec `mlpipe init` scaffolds (src/project/template), reading the
 * whole data set from the vega-datasets package instead of the project's sample copy.
 */
export const weatherSpec: SpecInput = { ...weather, defaultSource: 'package:vega-datasets/data/weather.csv' };
