// @vitest-environment jsdom
import { cleanup, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { Liveness } from "../../gen/stallwatch/v1/fleet_pb";
import { LIVENESS_KEY, LIVENESS_LABEL } from "./liveness";
import { LivenessBadge } from "./liveness-badge";

afterEach(cleanup);

const every = Object.values(Liveness).filter((v): v is Liveness => typeof v === "number");

describe("LivenessBadge (issue 12: class names from state keys)", () => {
  it("takes its class from the liveness key, not the word shown", () => {
    // UNSPECIFIED reads "waiting": the class must still say what the state is.
    const { container } = render(<LivenessBadge liveness={Liveness.UNSPECIFIED} />);
    const badge = container.querySelector(".badge");
    expect(badge?.textContent).toBe("waiting");
    expect(badge?.className).toBe("badge liveness-unspecified");
  });

  it("has one distinct, class-safe key per liveness", () => {
    const keys = every.map((l) => LIVENESS_KEY[l]);
    expect(new Set(keys).size).toBe(every.length);
    for (const key of keys) expect(key).toMatch(/^[a-z][a-z-]*$/);
    for (const l of every) {
      const { container } = render(<LivenessBadge liveness={l} />);
      expect(container.querySelector(`.liveness-${LIVENESS_KEY[l]}`)?.textContent).toBe(
        LIVENESS_LABEL[l],
      );
      cleanup();
    }
  });
});
