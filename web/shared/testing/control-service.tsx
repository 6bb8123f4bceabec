import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { createRouterTransport, type ServiceImpl } from "@connectrpc/connect";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter } from "react-router";
import { ActionSchema, ControlService, type Role } from "../../../gen/stallwatch/v1/control_pb";
import { TransportProvider } from "../transport-context";
import { whoAmIAs } from "./who-am-i";

/**
 * Renders `ui` as the app holds it (transport, a fresh QueryClient, a router)
 * against an in-memory `ControlService` that answers `whoAmI` as `role` and
 * the rest with `handlers`; a method not given fails as unimplemented.
 */
export function renderWithControl(
  ui: ReactNode,
  role: Role,
  handlers: Partial<ServiceImpl<typeof ControlService>> = {},
) {
  const transport = createRouterTransport(({ service }) => {
    service(ControlService, { whoAmI: whoAmIAs(role), ...handlers });
  });
  return render(
    <TransportProvider transport={transport}>
      <QueryClientProvider client={new QueryClient()}>
        <MemoryRouter>{ui}</MemoryRouter>
      </QueryClientProvider>
    </TransportProvider>,
  );
}

/** A `ControlService` answer that started (or ran) the action `actionId`. */
export function actionAnswer(actionId: string, init: MessageInitShape<typeof ActionSchema>) {
  return { action: create(ActionSchema, { ...init, actionId }) };
}
