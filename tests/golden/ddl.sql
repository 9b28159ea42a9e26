-- schema version 1: entity.create activity
CREATE TABLE "data"."activity" (
  "id" uuid NOT NULL DEFAULT gen_random_uuid(),
  "created_at" timestamptz NOT NULL DEFAULT now(),
  "updated_at" timestamptz NOT NULL DEFAULT now(),
  "created_by" uuid,
  "owner_id" uuid,
  "version" integer NOT NULL DEFAULT 1,
  CONSTRAINT "pk__activity" PRIMARY KEY ("id")
);

CREATE INDEX "ix__activity__created_at" ON "data"."activity" ("created_at", "id");

ALTER TABLE "data"."activity" ADD COLUMN "subject" varchar(998);

ALTER TABLE "data"."activity" ADD COLUMN "kind" text NOT NULL;

ALTER TABLE "data"."activity" ADD CONSTRAINT "chk__activity__kind" CHECK (("kind" IN ('email', 'call', 'meeting', 'note', 'task')));

ALTER TABLE "data"."activity" ADD COLUMN "direction" text DEFAULT 'internal' NOT NULL;

ALTER TABLE "data"."activity" ADD CONSTRAINT "chk__activity__direction" CHECK (("direction" IN ('inbound', 'outbound', 'internal')));

ALTER TABLE "data"."activity" ADD COLUMN "occurred_at" timestamptz NOT NULL;

ALTER TABLE "data"."activity" ADD COLUMN "duration_minutes" integer;

ALTER TABLE "data"."activity" ADD CONSTRAINT "chk__activity__duration_minutes" CHECK (("duration_minutes" >= 0));

ALTER TABLE "data"."activity" ADD COLUMN "body" text;

ALTER TABLE "data"."activity" ADD COLUMN "due_at" timestamptz;

ALTER TABLE "data"."activity" ADD COLUMN "completed_at" timestamptz;

ALTER TABLE "data"."activity" ADD COLUMN "in_reply_to" uuid;

CREATE INDEX "ix__activity__in_reply_to" ON "data"."activity" ("in_reply_to");

ALTER TABLE "data"."activity" ADD CONSTRAINT "fk__activity__in_reply_to" FOREIGN KEY ("in_reply_to") REFERENCES "data"."activity" ("id") ON DELETE SET NULL;

ALTER TABLE "data"."activity" ADD COLUMN "message_id" varchar(998);

CREATE UNIQUE INDEX "uq__activity__message_id" ON "data"."activity" ("message_id");

ALTER TABLE "data"."activity" ADD COLUMN "regarding" jsonb;

ALTER TABLE "data"."activity" ADD CONSTRAINT "chk__activity__regarding" CHECK ((jsonb_typeof("regarding") = 'object'));

ALTER TABLE "data"."activity" ADD COLUMN "parties" jsonb DEFAULT '[]'::jsonb;

ALTER TABLE "data"."activity" ADD CONSTRAINT "chk__activity__parties" CHECK ((jsonb_typeof("parties") = 'array'));

CREATE INDEX "fts__activity" ON "data"."activity" USING gin (to_tsvector('simple'::regconfig, coalesce("subject"::text, ''))) WITH (fastupdate = off);

-- schema version 2: choiceSet.create choiceSet:region
-- (no DDL)

-- schema version 3: entity.create partner
CREATE TABLE "data"."partner" (
  "id" uuid NOT NULL DEFAULT gen_random_uuid(),
  "created_at" timestamptz NOT NULL DEFAULT now(),
  "updated_at" timestamptz NOT NULL DEFAULT now(),
  "created_by" uuid,
  "owner_id" uuid,
  "version" integer NOT NULL DEFAULT 1,
  CONSTRAINT "pk__partner" PRIMARY KEY ("id")
);

CREATE INDEX "ix__partner__created_at" ON "data"."partner" ("created_at", "id");

ALTER TABLE "data"."partner" ADD COLUMN "name" varchar(200) NOT NULL;

ALTER TABLE "data"."partner" ADD COLUMN "website" varchar(2048);

ALTER TABLE "data"."partner" ADD COLUMN "email" varchar(320);

CREATE UNIQUE INDEX "uq__partner__email" ON "data"."partner" ("email");

ALTER TABLE "data"."partner" ADD COLUMN "phone" varchar(50);

ALTER TABLE "data"."partner" ADD COLUMN "region" text;

ALTER TABLE "data"."partner" ADD CONSTRAINT "chk__partner__region" CHECK (("region" IN ('emea', 'amer', 'apac')));

ALTER TABLE "data"."partner" ADD COLUMN "tier" text DEFAULT 'silver';

ALTER TABLE "data"."partner" ADD CONSTRAINT "chk__partner__tier" CHECK (("tier" IN ('gold', 'silver')));

ALTER TABLE "data"."partner" ADD COLUMN "annual_revenue" numeric(19, 4);

ALTER TABLE "data"."partner" ADD COLUMN "partner_since" date;

CREATE INDEX "fts__partner" ON "data"."partner" USING gin (to_tsvector('simple'::regconfig, coalesce("name"::text, ''))) WITH (fastupdate = off);

-- schema version 4: entity.create supplier
CREATE TABLE "data"."supplier" (
  "id" uuid NOT NULL DEFAULT gen_random_uuid(),
  "created_at" timestamptz NOT NULL DEFAULT now(),
  "updated_at" timestamptz NOT NULL DEFAULT now(),
  "created_by" uuid,
  "owner_id" uuid,
  "version" integer NOT NULL DEFAULT 1,
  CONSTRAINT "pk__supplier" PRIMARY KEY ("id")
);

CREATE INDEX "ix__supplier__created_at" ON "data"."supplier" ("created_at", "id");

ALTER TABLE "data"."supplier" ADD COLUMN "name" varchar(255) NOT NULL;

CREATE SEQUENCE "data"."seq__supplier__code";

ALTER TABLE "data"."supplier" ADD COLUMN "code" text DEFAULT xrm.autonumber('SUP-', 'data.seq__supplier__code'::regclass, 5) NOT NULL;

CREATE UNIQUE INDEX "uq__supplier__code" ON "data"."supplier" ("code");

ALTER TABLE "data"."supplier" ADD COLUMN "rating" integer;

ALTER TABLE "data"."supplier" ADD CONSTRAINT "chk__supplier__rating" CHECK (("rating" >= 1) AND ("rating" <= 5));

ALTER TABLE "data"."supplier" ADD COLUMN "categories" text[];

ALTER TABLE "data"."supplier" ADD CONSTRAINT "chk__supplier__categories" CHECK (("categories" <@ ARRAY['hardware', 'software', 'services']::text[]));

ALTER TABLE "data"."supplier" ADD COLUMN "notes" text;

CREATE INDEX "fts__supplier" ON "data"."supplier" USING gin (to_tsvector('simple'::regconfig, coalesce("name"::text, ''))) WITH (fastupdate = off);

-- schema version 5: entity.create employee
CREATE TABLE "data"."employee" (
  "id" uuid NOT NULL DEFAULT gen_random_uuid(),
  "created_at" timestamptz NOT NULL DEFAULT now(),
  "updated_at" timestamptz NOT NULL DEFAULT now(),
  "created_by" uuid,
  "owner_id" uuid,
  "version" integer NOT NULL DEFAULT 1,
  CONSTRAINT "pk__employee" PRIMARY KEY ("id")
);

CREATE INDEX "ix__employee__created_at" ON "data"."employee" ("created_at", "id");

ALTER TABLE "data"."employee" ADD COLUMN "full_name" varchar(255) NOT NULL;

ALTER TABLE "data"."employee" ADD COLUMN "email" varchar(320) NOT NULL;

CREATE UNIQUE INDEX "uq__employee__email" ON "data"."employee" ("email");

ALTER TABLE "data"."employee" ADD COLUMN "hired_on" date;

ALTER TABLE "data"."employee" ADD COLUMN "salary" numeric(12, 2);

ALTER TABLE "data"."employee" ADD COLUMN "badge_id" uuid;

ALTER TABLE "data"."employee" ADD COLUMN "manager" uuid;

CREATE INDEX "ix__employee__manager" ON "data"."employee" ("manager");

ALTER TABLE "data"."employee" ADD CONSTRAINT "fk__employee__manager" FOREIGN KEY ("manager") REFERENCES "data"."employee" ("id") ON DELETE SET NULL;

CREATE INDEX "fts__employee" ON "data"."employee" USING gin (to_tsvector('simple'::regconfig, coalesce("full_name"::text, ''))) WITH (fastupdate = off);

-- schema version 6: entity.create asset
CREATE TABLE "data"."asset" (
  "id" uuid NOT NULL DEFAULT gen_random_uuid(),
  "created_at" timestamptz NOT NULL DEFAULT now(),
  "updated_at" timestamptz NOT NULL DEFAULT now(),
  "created_by" uuid,
  "owner_id" uuid,
  "version" integer NOT NULL DEFAULT 1,
  CONSTRAINT "pk__asset" PRIMARY KEY ("id")
);

CREATE INDEX "ix__asset__created_at" ON "data"."asset" ("created_at", "id");

ALTER TABLE "data"."asset" ADD COLUMN "name" varchar(255) NOT NULL;

ALTER TABLE "data"."asset" ADD COLUMN "serial_number" varchar(64);

CREATE UNIQUE INDEX "uq__asset__serial_number" ON "data"."asset" ("serial_number");

ALTER TABLE "data"."asset" ADD COLUMN "purchased_at" timestamptz;

ALTER TABLE "data"."asset" ADD COLUMN "value" numeric(14, 2);

ALTER TABLE "data"."asset" ADD COLUMN "units" bigint;

ALTER TABLE "data"."asset" ADD COLUMN "in_service" boolean DEFAULT true;

ALTER TABLE "data"."asset" ADD COLUMN "assigned_to" uuid;

CREATE INDEX "ix__asset__assigned_to" ON "data"."asset" ("assigned_to");

ALTER TABLE "data"."asset" ADD CONSTRAINT "fk__asset__assigned_to" FOREIGN KEY ("assigned_to") REFERENCES "data"."employee" ("id") ON DELETE SET NULL;

CREATE INDEX "fts__asset" ON "data"."asset" USING gin (to_tsvector('simple'::regconfig, coalesce("name"::text, ''))) WITH (fastupdate = off);

-- schema version 7: entity.create iot_device
CREATE TABLE "data"."iot_device" (
  "id" uuid NOT NULL DEFAULT gen_random_uuid(),
  "created_at" timestamptz NOT NULL DEFAULT now(),
  "updated_at" timestamptz NOT NULL DEFAULT now(),
  "created_by" uuid,
  "owner_id" uuid,
  "version" integer NOT NULL DEFAULT 1,
  CONSTRAINT "pk__iot_device" PRIMARY KEY ("id")
);

CREATE INDEX "ix__iot_device__created_at" ON "data"."iot_device" ("created_at", "id");

ALTER TABLE "data"."iot_device" ADD COLUMN "name" varchar(255) NOT NULL;

ALTER TABLE "data"."iot_device" ADD COLUMN "asset" uuid;

CREATE INDEX "ix__iot_device__asset" ON "data"."iot_device" ("asset");

ALTER TABLE "data"."iot_device" ADD CONSTRAINT "fk__iot_device__asset" FOREIGN KEY ("asset") REFERENCES "data"."asset" ("id") ON DELETE CASCADE;

ALTER TABLE "data"."iot_device" ADD COLUMN "status" text DEFAULT 'offline' NOT NULL;

ALTER TABLE "data"."iot_device" ADD CONSTRAINT "chk__iot_device__status" CHECK (("status" IN ('online', 'offline', 'maintenance')));

ALTER TABLE "data"."iot_device" ADD COLUMN "telemetry" jsonb;

ALTER TABLE "data"."iot_device" ADD COLUMN "last_seen_at" timestamptz;

CREATE INDEX "fts__iot_device" ON "data"."iot_device" USING gin (to_tsvector('simple'::regconfig, coalesce("name"::text, ''))) WITH (fastupdate = off);

-- schema version 8: relationship.create supplier_assets
CREATE TABLE "data"."supplier_assets" (
  "from_id" uuid NOT NULL REFERENCES "data"."supplier" ("id") ON DELETE CASCADE,
  "to_id" uuid NOT NULL REFERENCES "data"."asset" ("id") ON DELETE CASCADE,
  "created_at" timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT "pk__supplier_assets" PRIMARY KEY ("from_id", "to_id")
);

CREATE INDEX "ix__supplier_assets__to_id" ON "data"."supplier_assets" ("to_id");
