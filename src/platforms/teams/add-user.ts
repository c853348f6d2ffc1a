/**
 * The Add user card: posted by `add user [email]` (after the Administrator check), its Group a
 * list when there are few groups and Teams' typeahead (Data.Query, invoke application/search)
 * when there are many, submitted with Action.Execute. The answer to the submission replaces the
 * card for the person: the form again with the problems next to their fields and what was typed,
 * or the confirmation. A submission that outlasts the answer's deadline shows "Saving…" and the
 * outcome replaces the card when it is known.
 */
import type { Activity } from "botbuilder";
import type { AddUserOutcome, Who } from "../../chat/index.ts";
import type { UserInput } from "../../core/index.ts";
import { type AdaptiveCard, renderFormCard, renderSearchResults } from "../../render/adaptive-cards.ts";
import type { Option } from "../../render/model.ts";
import { ADD_USER_INPUTS, addUserForm, noticeMessage } from "../../render/views.ts";
import { type TeamsEdgeContext, whoSent } from "./context.ts";
import { type InvokeAnswer, withinDeadline } from "./invoke.ts";
import { cardActivity } from "./surface.ts";

/** The typeahead's dataset for the Group input. */
export const GROUPS_DATASET = "hms_groups";
/** Up to this many groups, the Group input lists them all; beyond, it searches as the admin types. */
export const LISTED_GROUPS_MAX = 25;
/** Teams shows at most 15 typeahead results. */
export const GROUP_SEARCH_RESULTS = 15;

type GroupChoices = readonly Option[] | { dataset: string };

interface FormMetadata {
  groups?: "listed" | "search";
}

function readMetadata(text: unknown): FormMetadata {
  try {
    const parsed = JSON.parse(typeof text === "string" ? text : "{}") as Record<string, unknown>;
    return { groups: parsed.groups === "listed" || parsed.groups === "search" ? parsed.groups : undefined };
  } catch {
    return {};
  }
}

/** The Group input's choices for a form: all the groups when there are few, else Teams' typeahead. */
export async function groupChoices(edge: TeamsEdgeContext, who: Who): Promise<GroupChoices> {
  const list = await edge.chat.addUser.groupChoices(edge.surface, who, "", LISTED_GROUPS_MAX + 1);
  // None (the lookup failed) or many: the typeahead asks again as the admin types.
  return list.options.length === 0 || list.options.length > LISTED_GROUPS_MAX ? { dataset: GROUPS_DATASET } : list.options;
}

function formCard(
  choices: GroupChoices,
  {
    email,
    values,
    errors,
    notice,
  }: { email?: string; values?: Readonly<Record<string, string>>; errors?: Record<string, string>; notice?: string } = {},
): AdaptiveCard {
  const metadata = JSON.stringify({ groups: "dataset" in choices ? "search" : "listed" } satisfies FormMetadata);
  // What was typed; a field left empty shows empty (not as a choice with no title).
  const typed = values ? Object.fromEntries(Object.entries(values).filter(([, v]) => v.trim() !== "")) : undefined;
  return renderFormCard(addUserForm({ email, metadata, values: typed, notice }), { values: typed, errors, choices: { group: choices } });
}

/** Posts the Add user card where the command was typed, for an Administrator; anyone else is told why not. */
export async function openAddUserForm(edge: TeamsEdgeContext, who: Who, email?: string): Promise<void> {
  const { chat, surface } = edge;
  const where = { subcommand: "add-user", ...surface.logContext(who) };
  try {
    const access = await chat.addUser.access(surface, who);
    if (access.allowed === false) {
      await surface.tell(who, noticeMessage(access.text));
      return;
    }
    const card = formCard(await groupChoices(edge, who), { email });
    await surface.send(who.place as never, cardActivity(card, "Add user"));
  } catch (error) {
    await surface.tellFailure(who, error, where);
  }
}

/** The submitted values by input id (Teams merges the inputs into the action's data). */
function readInput(data: Record<string, unknown>): Record<string, string> & UserInput {
  const input: Record<string, string> = {};
  for (const field of ADD_USER_INPUTS) input[field] = typeof data[field] === "string" ? (data[field] as string) : "";
  return input as Record<string, string> & UserInput;
}

/** The card for an outcome: the form again (problems, or a notice to try again), or the confirmation. */
async function outcomeCard(
  edge: TeamsEdgeContext,
  who: Who,
  outcome: AddUserOutcome,
  input: Record<string, string>,
  metadata: FormMetadata,
) {
  const choices = async (): Promise<GroupChoices> =>
    metadata.groups === "search" ? { dataset: GROUPS_DATASET } : await groupChoices(edge, who);
  switch (outcome.kind) {
    case "errors":
      return formCard(await choices(), { values: input, errors: { ...outcome.errors } });
    case "retry":
      return formCard(await choices(), { values: input, notice: `Not saved: ${outcome.notice} What you typed is kept below.` });
    default:
      return edge.surface.card(outcome.message);
  }
}

/** The Add user card's submission (Action.Execute, verb = the form's id). */
export async function submitAddUser(
  edge: TeamsEdgeContext,
  activity: Partial<Activity>,
  data: Record<string, unknown>,
): Promise<InvokeAnswer> {
  const who = whoSent(edge, activity);
  const input = readInput(data);
  const metadata = readMetadata(data.metadata);
  const work = edge.chat.addUser.submit(edge.surface, who, input).then((outcome) => outcomeCard(edge, who, outcome, input, metadata));
  const first = await withinDeadline(edge.answerDeadlineMs, work);
  if (first !== "late") return { card: first };

  // Not known in time: "Saving…" now, and the outcome replaces the card when it is.
  edge.logger.warn(
    { action: "add-user submission", ...edge.surface.logContext(who) },
    `add-user submission took longer than ${edge.answerDeadlineMs} ms; the card shows the outcome when it is known`,
  );
  const conversationId = activity.conversation?.id;
  const cardId = activity.replyToId;
  edge.chat.later("add-user outcome", async () => {
    const card = await work;
    if (!conversationId || !cardId || !activity.serviceUrl) return;
    await edge.connector
      .update(activity.serviceUrl, conversationId, cardId, cardActivity(card, "Add user"))
      .catch((error: unknown) => edge.surface.tellFailure(who, error, { action: "add-user submission", while: "showing the outcome" }));
  });
  return { card: edge.surface.card(noticeMessage(`Saving ${input.email || "the user"}… this card shows the outcome in a moment.`)) };
}

/** The Group typeahead (invoke application/search): the groups whose name contains what was typed. */
export async function searchGroups(edge: TeamsEdgeContext, activity: Partial<Activity>, text: string) {
  const who = whoSent(edge, activity);
  const list = await edge.chat.addUser.groupChoices(edge.surface, who, text, GROUP_SEARCH_RESULTS);
  return renderSearchResults(list, GROUP_SEARCH_RESULTS);
}
