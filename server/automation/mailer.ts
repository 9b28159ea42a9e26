/**
 * Email for rules' `email` actions: one nodemailer SMTP transport from `XRM_SMTP_URL`
 * (`smtp://user:pass@host:port`, `smtps://…` for TLS), sending from `XRM_SMTP_FROM`. Each email is
 * a durable job, so a receiver that is down is retried with the queue's backoff.
 */
import nodemailer, { type Transporter } from 'nodemailer';

export interface Email {
  readonly to: string;
  readonly subject: string;
  readonly body: string;
}

export class Mailer {
  readonly #transport: Transporter;
  readonly #from: string;

  constructor(url: string, from: string) {
    this.#transport = nodemailer.createTransport(url);
    this.#from = from;
  }

  /** Sends one email; answers the SMTP message id. Throws when the server refuses or is unreachable. */
  async send(email: Email, messageId: string): Promise<string> {
    const info = await this.#transport.sendMail({
      from: this.#from,
      to: email.to,
      subject: email.subject,
      text: email.body,
      messageId: `<${messageId}@xrm-platform>`,
    });
    return String(info.messageId ?? messageId);
  }

  close(): void {
    this.#transport.close();
  }
}

/** A plain email address (what an `email` action may send to once its templates are resolved). */
export function isEmailAddress(value: unknown): value is string {
  return (
    typeof value === 'string' && value.length <= 320 && /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/.test(value)
  );
}
