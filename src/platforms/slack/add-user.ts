/**
 * The Add user modal: opened by `/hms add-user [email]`, its Group select fed on demand
 * (block_suggestion), its submission handed to the chat layer. Field problems come back inline
 * and the modal stays open with what was typed; anything else closes it and the answer goes to
 * the conversation where the command ran.
 */
import type { App } from "@slack/bolt";
import type { Who } from "../../chat/index.ts";
import type { UserInput } from "../../core/index.ts";
import { renderFormErrors, renderModal, renderOptions } from "../../render/blockkit.ts";
import type { Message } from "../../render/model.ts";
import { ADD_USER_FORM_ID, addUserForm, formClosedMessage, noticeForm } from "../../render/views.ts";
import { type SlackEdgeContext, whoIs } from "./context.ts";
import { callSlack } from "./web.ts";

/** Groups offered by the select at most (Slack shows no more than 100 options). */
export const GROUP_OPTIONS_SHOWN = 100;

/** Where to answer after the submission, kept in the modal's private_metadata. */
interface FormMetadata {
  channel?: string;
  responseUrl?: string;
}

function readMetadata(text: string | undefined): FormMetadata {
  try {
    const parsed = JSON.parse(text ?? "{}") as Record<string, unknown>;
    return {
      channel: typeof parsed.channel === "string" ? parsed.channel : undefined,
      responseUrl: typeof parsed.responseUrl === "string" ? parsed.responseUrl : undefined,
    };
  } catch {
    return {};
  }
}

export type StateValue = { value?: string | null; selected_option?: { value?: string } | null };

/** The submitted values by input id: text inputs' values, selects' and radios' chosen values. */
export function readFormValues(values: Record<string, Record<string, StateValue>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [blockId, actions] of Object.entries(values)) {
    const action = actions[blockId] ?? Object.values(actions)[0];
    out[blockId] = action?.selected_option?.value ?? action?.value ?? "";
  }
  return out;
}

/**
 * Opens the modal at once (the trigger_id lives 3 seconds) and meanwhile checks the person is
 * an HMS Administrator; if not, the modal turns into the refusal and they get it ephemerally.
 */
export async function openAddUserForm(
  edge: SlackEdgeContext,
  { triggerId, who, email }: { triggerId: string; who: Who; email?: string },
): Promise<void> {
  const { surface } = edge;
  const where = { subcommand: "add-user", ...surface.logContext(who) };
  const place = who.place as FormMetadata;
  const metadata = JSON.stringify({ channel: place.channel, responseUrl: place.responseUrl } satisfies FormMetadata);
  const view = renderModal(addUserForm({ email, metadata }));
  const [opened, access] = await Promise.all([
    callSlack("views.open", () => edge.client.views.open({ trigger_id: triggerId, view })).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
    edge.chat.addUser.access(surface, who),
  ]);
  if (!opened.ok) {
    await surface.tellFailure(who, opened.error, where);
    return;
  }
  if (access.allowed !== false) return; // allowed, or unknown: the submission checks again
  await surface
    .tell(who, { summary: access.text, blocks: [{ type: "section", text: access.text }] })
    .catch((e: unknown) => surface.answer(e, { ...where, while: "answering" }));
  const viewId = opened.value.view?.id;
  if (!viewId) return;
  const notice = renderModal(noticeForm({ title: "Add user", text: access.text }));
  await callSlack("views.update", () => edge.client.views.update({ view_id: viewId, view: notice })).catch((e: unknown) =>
    surface.answer(e, where),
  );
}

export function registerAddUser(app: App, edge: SlackEdgeContext): void {
  const { chat, surface } = edge;
  // The Group select asks for options as the admin types.
  app.options<"block_suggestion">({ type: "block_suggestion", action_id: "group" }, async ({ body, ack }) => {
    const who = whoIs(edge, { team: body.team?.id ?? body.user.team_id, user: body.user.id, channel: "" });
    await ack(renderOptions(await chat.addUser.groupChoices(surface, who, body.value, GROUP_OPTIONS_SHOWN)));
  });

  app.view(ADD_USER_FORM_ID, async ({ ack, body, view }) => {
    const metadata = readMetadata(view.private_metadata);
    const who = whoIs(edge, {
      team: body.team?.id ?? body.user.team_id,
      user: body.user.id,
      channel: metadata.channel ?? "",
      responseUrl: metadata.responseUrl,
    });
    const where = { action: "add-user submission", ...surface.logContext(who) };
    const input: UserInput = readFormValues(view.state.values as Record<string, Record<string, StateValue>>);
    const answer = (message: Message) =>
      surface.tell(who, message).catch((e: unknown) => surface.answer(e, { ...where, while: "answering" }));
    const work = chat.addUser.submit(surface, who, input);

    // The answer decides whether the modal stays open, so it waits for the outcome; but not past
    // Slack's 3 seconds (a slow Slack or database): then the modal closes and the outcome follows.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), edge.submitDeadlineMs);
    });
    const outcome = await Promise.race([work, deadline]);
    clearTimeout(timer);
    if (outcome !== "late") {
      switch (outcome.kind) {
        case "errors":
          await ack(renderFormErrors(outcome.errors)); // keeps the modal open with what was typed
          return;
        case "retry": {
          const notice = `Not saved: ${outcome.notice} What you typed is kept below.`;
          await ack({
            response_action: "update",
            view: renderModal(addUserForm({ values: input, notice, metadata: view.private_metadata })),
          });
          return;
        }
        default:
          await ack(); // closes the modal
          await answer(outcome.message);
          return;
      }
    }
    await ack();
    edge.logger.warn(
      where,
      `add-user submission took longer than ${edge.submitDeadlineMs} ms; the modal was closed and the outcome follows as a message`,
    );
    const late = await work;
    const command = surface.spell("add-user");
    if (late.kind === "errors") await answer(formClosedMessage({ errors: late.errors, command }));
    else if (late.kind === "retry") await answer(formClosedMessage({ errors: { form: late.notice }, command }));
    else await answer(late.message);
  });
}
