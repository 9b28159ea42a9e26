import type { Migration } from 'kysely/migration';
import * as systemTables from './0001-system-tables.ts';
import * as physicalNames from './0002-physical-names.ts';
import * as jobsAuditWebhooks from './0003-jobs-audit-webhooks.ts';
import * as identity from './0004-identity.ts';
import * as authorization from './0005-authorization.ts';
import * as automation from './0006-automation.ts';
import * as relationships from './0007-relationships.ts';
import * as activityLinkFacts from './0008-activity-link-facts.ts';
import * as indexedFields from './0009-indexed-fields.ts';
import * as securityNotices from './0010-security-notices.ts';
import * as auditDiffSetBased from './0011-audit-diff-set-based.ts';
import * as fullTextDirect from './0012-full-text-direct.ts';
import * as auditRetention from './0013-audit-retention.ts';

/** Ordered migrations of the platform's own tables; names sort in application order. */
export const migrations: Record<string, Migration> = {
  '0001-system-tables': systemTables,
  '0002-physical-names': physicalNames,
  '0003-jobs-audit-webhooks': jobsAuditWebhooks,
  '0004-identity': identity,
  '0005-authorization': authorization,
  '0006-automation': automation,
  '0007-relationships': relationships,
  '0008-activity-link-facts': activityLinkFacts,
  '0009-indexed-fields': indexedFields,
  '0010-security-notices': securityNotices,
  '0011-audit-diff-set-based': auditDiffSetBased,
  '0012-full-text-direct': fullTextDirect,
  '0013-audit-retention': auditRetention,
};
