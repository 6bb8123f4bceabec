/**
 * What one program's tests borrow from the programs on the other side of its
 * wires, so that they reach another program only through server/testing:
 * the engine's Execute driver (drives a worker the way Spark does) and the
 * gateway's Beam status parser (reads what the worker's Beam mode writes).
 */
export { describeResponse, engineSays, ExecuteDriver } from "../engine/execute-driver.js";
export { parseBeamStatus } from "../gateway/beam-text/status-text.js";
