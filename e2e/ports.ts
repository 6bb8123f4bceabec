/**
 * Fixed ports below the ephemeral range (32768+) for the journeys. Several
 * checkouts may run their journeys on one machine at once, so the base is
 * movable: `STALLWATCH_E2E_PORT_BASE` (default 18200), each spec taking its
 * own offset within the next 100 ports.
 */
export const E2E_PORT_BASE = Number(process.env.STALLWATCH_E2E_PORT_BASE ?? 18_200);
