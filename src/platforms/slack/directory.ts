/**
 * The directory's Slack listeners: the buttons of a user's card (Edit and Move open a modal, the
 * others answer by replacing the card), the Edit and Move modals, and Resend of failed
 * invitations. Parsing only: the chat layer's directory flow decides.
 */
import type { App } from "@slack/bolt";
import type { Who } from "../../chat/index.ts";
import { renderFormErrors, renderModal } from "../../render/blockkit.ts";
import { MOVE_USER_FORM_ID, RESEND_ACTION, USER_ACTIONS } from "../../render/directory-views.ts";
import type { Message } from "../../render/model.ts";
import { EDIT_USER_FORM_ID } from "../../render/views.ts";
import { readFormValues, type StateValue } from "./add-user.ts";
import { type SlackEdgeContext, whoIs } from "./context.ts";
import { type ActionBody, deliver, whoClicked } from "./imports.ts";
import { callSlack } from "./web.ts";

interface CardFormMetadata {
  email?: string;
  channel?: string;
  responseUrl?: string;
}

function readMetadata(text: string | undefined): CardFormMetadata {
  try {
    const parsed = JSON.parse(text ?? "{}") as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    return { email: str(parsed.email), channel: str(parsed.channel), responseUrl: str(parsed.responseUrl) };
  } catch {
    return {};
  }
}

/** The outcome within Slack's 3 seconds, or "late" (the modal then closes and the outcome follows as a message). */
export async function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T | "late"> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function registerDirectory(app: App, edge: SlackEdgeContext): void {
  const { chat, surface } = edge;
  for (const action of Object.values(USER_ACTIONS)) {
    app.action({ type: "block_actions", action_id: action }, async ({ ack, body, action: clicked }) => {
      await ack();
      const actionBody = body as unknown as ActionBody;
      const who = whoClicked(edge, actionBody);
      const email = (clicked as { value?: string }).value ?? "";
      const outcome = await chat.directory.cardClick(surface, who, action, email);
      if (outcome.kind === "answer") {
        await deliver(edge, who, outcome, action);
        return;
      }
      // Edit and Move: a modal whose metadata says whom it changes and where to answer.
      const place = who.place as { channel?: string; responseUrl?: string };
      const form = {
        ...outcome.form,
        metadata: JSON.stringify({ email: outcome.form.metadata, channel: place.channel, responseUrl: place.responseUrl }),
      };
      try {
        await callSlack("views.open", () => edge.client.views.open({ trigger_id: actionBody.trigger_id ?? "", view: renderModal(form) }));
      } catch (error) {
        await surface.tellFailure(who, error, { action, ...surface.logContext(who) });
      }
    });
  }

  app.action({ type: "block_actions", action_id: RESEND_ACTION }, async ({ ack, body, action }) => {
    await ack();
    const who = whoClicked(edge, body as unknown as ActionBody);
    await deliver(edge, who, await chat.directory.resend(surface, who, (action as { value?: string }).value ?? ""), RESEND_ACTION);
  });

  const onSave = (
    formId: string,
    save: (who: Who, email: string, values: Record<string, string>) => ReturnType<typeof chat.directory.saveEdit>,
  ) =>
    app.view(formId, async ({ ack, body, view }) => {
      const metadata = readMetadata(view.private_metadata);
      const who = whoIs(edge, {
        team: body.team?.id ?? body.user.team_id,
        user: body.user.id,
        channel: metadata.channel ?? "",
        responseUrl: metadata.responseUrl,
      });
      const values = readFormValues(view.state.values as Record<string, Record<string, StateValue>>);
      const answer = (message: Message) =>
        surface.tell(who, message).catch((e: unknown) => surface.answer(e, { formId, while: "answering" }));
      const work = save(who, metadata.email ?? "", values);
      const outcome = await withinDeadline(work, edge.submitDeadlineMs);
      if (outcome !== "late" && outcome.kind === "errors") {
        await ack(renderFormErrors(outcome.errors));
        return;
      }
      await ack();
      const done = outcome === "late" ? await work : outcome;
      await answer(
        done.kind === "done"
          ? done.message
          : { summary: "Not saved.", blocks: [{ type: "section", text: `Not saved: ${Object.values(done.errors).join(" ")}` }] },
      );
    });
  onSave(EDIT_USER_FORM_ID, (who, email, values) => chat.directory.saveEdit(surface, who, email, values));
  onSave(MOVE_USER_FORM_ID, (who, email, values) => chat.directory.saveMove(surface, who, email, values.group ?? ""));
}
