/**
 * The Add user modal: opened by `/hms add-user [email]`, its Group select fed on demand
 * (block_suggestion), its submission handed to the core. Field problems come back inline and
 * the modal stays open with what was typed; anything else closes it and the answer goes to the
 * conversation where the command ran.
 */
import type { App, webApi } from "@slack/bolt";
import { ErrorCode, isAppError, type UserInput } from "../../core/index.ts";
import { renderFormErrors, renderModal, renderOptions } from "../../render/blockkit.ts";
import type { FormErrors, Message } from "../../render/model.ts";
import {
  ADD_USER_FORM_ID,
  addUserErrors,
  addUserForm,
  formClosedMessage,
  groupOptions,
  noticeForm,
  noticeMessage,
  userAddedMessage,
} from "../../render/views.ts";
import { logFailure } from "./answers.ts";
import { HMS_COMMAND, type SlackEdgeContext } from "./context.ts";
import { SlackNoEmailError } from "./identity.ts";
import { type ReplyTarget, replyFailure, replyOrLog } from "./reply.ts";
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

type StateValue = { value?: string | null; selected_option?: { value?: string } | null };

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
  client: webApi.WebClient,
  { triggerId, teamId, email, target }: { triggerId: string; teamId: string; email?: string; target: ReplyTarget },
): Promise<void> {
  const where = { subcommand: "add-user", slackUser: target.user, team: teamId };
  const metadata = JSON.stringify({ channel: target.channel, responseUrl: target.responseUrl } satisfies FormMetadata);
  const view = renderModal(addUserForm({ email, metadata }));
  const [opened, allowed] = await Promise.allSettled([
    callSlack("views.open", () => client.views.open({ trigger_id: triggerId, view })),
    edge.identities.resolve(client, teamId, target.user).then((actor) => edge.core.requireAdministrator(actor)),
  ]);
  if (opened.status === "rejected") {
    await replyFailure(client, target, opened.reason, edge.logger, where);
    return;
  }
  if (allowed.status === "fulfilled") return;
  const refused = isAppError(allowed.reason, ErrorCode.NOT_ADMINISTRATOR) || allowed.reason instanceof SlackNoEmailError;
  if (!refused) {
    // Slack or the database hiccuped: the submission checks again and answers then.
    edge.logger.debug({ ...where, err: allowed.reason }, "add-user: could not check the Administrator role before the submission");
    return;
  }
  const text = await replyFailure(client, target, allowed.reason, edge.logger, where);
  const viewId = opened.value.view?.id;
  if (!viewId) return;
  const notice = renderModal(noticeForm({ title: "Add user", text }));
  await callSlack("views.update", () => client.views.update({ view_id: viewId, view: notice })).catch((e: unknown) =>
    logFailure(edge.logger, e, where),
  );
}

export function registerAddUser(app: App, edge: SlackEdgeContext): void {
  // The Group select asks for options as the admin types.
  app.options<"block_suggestion">({ type: "block_suggestion", action_id: "group" }, async ({ body, ack, client }) => {
    const teamId = body.team?.id ?? body.user.team_id;
    try {
      const actor = await edge.identities.resolve(client, teamId, body.user.id);
      const groups = await edge.core.listGroups({ actor, fragment: body.value, limit: GROUP_OPTIONS_SHOWN });
      await ack(renderOptions(groupOptions(groups)));
    } catch (error) {
      logFailure(edge.logger, error, { action: "group options", slackUser: body.user.id, team: teamId });
      await ack({ options: [] });
    }
  });

  app.view(ADD_USER_FORM_ID, async ({ ack, body, view, client }) => {
    const teamId = body.team?.id ?? body.user.team_id;
    const where = { action: "add-user submission", slackUser: body.user.id, team: teamId };
    const metadata = readMetadata(view.private_metadata);
    const target: ReplyTarget = { responseUrl: metadata.responseUrl, channel: metadata.channel, user: body.user.id };
    const input: UserInput = readFormValues(view.state.values as Record<string, Record<string, StateValue>>);
    const answer = (message: Message) => replyOrLog(client, target, message, edge.logger, where);

    // Field problems go next to their fields; a failure worth another try (Slack or the database
    // busy) keeps the form open with what was typed; anything else closes it with an explanation.
    const work = (async (): Promise<{ errors: FormErrors } | { retry: string } | { message: Message }> => {
      try {
        const actor = await edge.identities.resolve(client, teamId, body.user.id);
        const added = await edge.core.addUser({ actor, input });
        edge.logger.info(
          { ...where, user: added.user.email, group: added.group.name, role: added.user.role, actor: actor.email },
          "user added",
        );
        return { message: userAddedMessage(added) };
      } catch (error) {
        const errors = isAppError(error, ErrorCode.VALIDATION_FAILED) ? addUserErrors(error.fieldIssues) : undefined;
        if (errors) return { errors };
        const failure = logFailure(edge.logger, error, where);
        return failure.retry ? { retry: failure.text } : { message: noticeMessage(failure.text) };
      }
    })();

    // The answer decides whether the modal stays open, so it waits for the outcome; but not past
    // Slack's 3 seconds (a slow Slack or database): then the modal closes and the outcome follows.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), edge.submitDeadlineMs)));
    const outcome = await Promise.race([work, deadline]);
    clearTimeout(timer);
    if (outcome !== "late") {
      if ("errors" in outcome) {
        await ack(renderFormErrors(outcome.errors)); // keeps the modal open with what was typed
        return;
      }
      if ("retry" in outcome) {
        const notice = `Not saved: ${outcome.retry} What you typed is kept below.`;
        await ack({
          response_action: "update",
          view: renderModal(addUserForm({ values: input, notice, metadata: view.private_metadata })),
        });
        return;
      }
      await ack(); // closes the modal
      await answer(outcome.message);
      return;
    }
    await ack();
    edge.logger.warn(
      where,
      `add-user submission took longer than ${edge.submitDeadlineMs} ms; the modal was closed and the outcome follows as a message`,
    );
    const late = await work;
    const invoke = `${HMS_COMMAND} add-user`;
    if ("errors" in late) await answer(formClosedMessage({ errors: late.errors, invoke }));
    else if ("retry" in late) await answer(formClosedMessage({ errors: { form: late.retry }, invoke }));
    else await answer(late.message);
  });
}
