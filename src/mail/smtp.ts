/** Enrollment invitations by SMTP (nodemailer). */
import nodemailer from "nodemailer";
import type { InvitationMailer } from "../core/import/ports.ts";

export interface SmtpSettings {
  smtpUrl?: string;
  from?: string;
  enrollUrl?: string;
}

/** The enrollment link of a token: ENROLL_URL with `token` added to its query. */
export function enrollmentLink(enrollUrl: string, token: string): string {
  const url = new URL(enrollUrl);
  url.searchParams.set("token", token);
  return url.toString();
}

/** An InvitationMailer over SMTP; `configured` is false (and send throws) without SMTP_URL. */
export function createSmtpMailer(settings: SmtpSettings): InvitationMailer & { close(): void } {
  const { smtpUrl, from, enrollUrl } = settings;
  if (!smtpUrl || !from || !enrollUrl) {
    return {
      configured: false,
      async send() {
        throw new Error("SMTP is not configured (SMTP_URL)");
      },
      close() {},
    };
  }
  const transport = nodemailer.createTransport(smtpUrl, { connectionTimeout: 15_000, greetingTimeout: 10_000, socketTimeout: 30_000 });
  return {
    configured: true,
    async send({ to, name, token, invitationId }) {
      const link = enrollmentLink(enrollUrl, token);
      await transport.sendMail({
        from,
        to: { name, address: to },
        subject: "Enroll your device in Hosted Mobile Security",
        // A stable Message-ID: if a send is ever repeated after a crash, receivers can tell.
        messageId: `<invitation-${invitationId}@hms-userbot>`,
        text: [
          `Hello ${name},`,
          "",
          "Your IT team has set up your account in Hosted Mobile Security.",
          "Open this link on the device you want to enroll and follow the steps:",
          "",
          link,
          "",
          `Your logon ID is ${to}.`,
        ].join("\n"),
      });
    },
    close: () => transport.close(),
  };
}
