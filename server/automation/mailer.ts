/**
 * Email for rules' `email` actions: one nodemailer SMTP transport from `XRM_SMTP_URL`
 * (`smtp://user:pass@host:port`, `smtps://…` for TLS), sending from `XRM_SMTP_FROM`. Each email is
 * a durable job, so a receiver that is down is retried with the queue's backoff.
 */
import type { Transporter } from 'nodemailer';

export interface Email {
  readonly to: string;
  readonly subject: string;
  readonly body: string;
}

export class Mailer {
  readonly #url: string;
  readonly #from: string;
  /** Made on the first email: nodemailer is loaded then, not at start. */
  #transport?: Promise<Transporter>;

  constructor(url: string, from: string) {
    this.#url = url;
    this.#from = from;
  }

  #transporter(): Promise<Transporter> {
    this.#transport ??= import('nodemailer').then((m) => m.default.createTransport(this.#url));
    return this.#transport;
  }

  /** Sends one email; answers the SMTP message id. Throws when the server refuses or is unreachable. */
  async send(email: Email, messageId: string): Promise<string> {
    const transport = await this.#transporter();
    const info = await transport.sendMail({
      from: this.#from,
      to: email.to,
      subject: email.subject,
      text: email.body,
      messageId: `<${messageId}@xrm-platform>`,
    });
    return String(info.messageId ?? messageId);
  }

  close(): void {
    void this.#transport?.then(
      (t) => t.close(),
      () => undefined,
    );
  }
}

/** A plain email address (what an `email` action may send to once its templates are resolved). */
export function isEmailAddress(value: unknown): value is string {
  return (
    typeof value === 'string' && value.length <= 320 && /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/.test(value)
  );
}
