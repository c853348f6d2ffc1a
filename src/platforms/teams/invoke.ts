/**
 * Answers to invokes (a click on Action.Execute, a card's refresh): the card the person should see
 * now, or a short message that leaves the card as it is. The edge writes the invoke response
 * itself: teams-ai's actionExecute would PUT a card that has `refresh` for everyone before
 * answering, and a failed PUT leaves the click unanswered.
 */
import type { TurnContext } from "botbuilder";
import type { AdaptiveCard } from "../../render/adaptive-cards.ts";
import { ADAPTIVE_CARD } from "./surface.ts";

export type InvokeAnswer = { card: AdaptiveCard } | { text: string };

const MESSAGE = "application/vnd.microsoft.activity.message";

/** The Universal Actions response body for an answer. */
export function invokeBody(answer: InvokeAnswer): { statusCode: 200; type: string; value: unknown } {
  return "card" in answer
    ? { statusCode: 200, type: ADAPTIVE_CARD, value: answer.card }
    : { statusCode: 200, type: MESSAGE, value: answer.text };
}

/** Queues the invoke response; it goes out when the turn returns. */
export async function answerInvoke(context: TurnContext, answer: InvokeAnswer): Promise<void> {
  await context.sendActivity({ type: "invokeResponse", value: { status: 200, body: invokeBody(answer) } });
}

/** `work`'s result, or "late" once `ms` have passed (the work carries on). */
export async function withinDeadline<T>(ms: number, work: Promise<T>): Promise<T | "late"> {
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

/** Said to a click whose work outlasted the answer: the card follows. */
export const STILL_WORKING = "Still working on it: the card updates when it is done.";
