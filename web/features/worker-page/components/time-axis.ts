import type { XAxisProps } from "recharts";
import { formatClock } from "../../../shared/format";

/**
 * The x axis of every worker chart: numeric timestamps in `t`. A number axis,
 * not recharts' default category axis, is what keeps a live update of
 * thousands of points cheap (docs: measured-here, "recharts 3").
 */
export const TIME_AXIS: XAxisProps = {
  dataKey: "t",
  type: "number",
  domain: ["dataMin", "dataMax"],
  tickFormatter: formatClock,
  scale: "time",
};

export const CHART_MARGIN = { top: 8, right: 16, bottom: 4, left: 0 };

/** A tooltip's label (the point's `t`) as a wall-clock time. */
export const clockLabel = (t: unknown) => formatClock(Number(t));
