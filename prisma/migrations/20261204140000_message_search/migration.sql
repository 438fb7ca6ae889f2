-- Message search (packages/api/src/search). Expression indexes only: the send statement and
-- the Message table are unchanged, and both indexes are kept up to date by PostgreSQL itself.

-- The text search works on: lower case; Arabic alef variants (أ إ آ ٱ) as ا, ta marbuta as ha,
-- alef maqsura as ya; Arabic-Indic and Persian digits as 0-9; tashkeel, tatweel and invisible
-- direction marks removed. translate() drops characters of its second argument that have no
-- counterpart in the third. Mirrored by normalizeForSearch in normalize-arabic.ts.
CREATE FUNCTION naafe_search_normalize(content text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN translate(
    lower(content),
    'أإآٱةى٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹' ||
      U&'\064B\064C\064D\064E\064F\0650\0651\0652\0653\0654\0655\0656\0657\0658\0659\065A\065B\065C\065D\065E\065F\0670\0640' ||
      U&'\200B\200C\200D\200E\200F\202A\202B\202C\202D\202E\2066\2067\2068\2069\FEFF',
    'ااااهي01234567890123456789'
  );

-- Words as written (names, numbers, transliterated Arabic) plus Arabic and English stems.
CREATE FUNCTION naafe_search_vector(content text) RETURNS tsvector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN to_tsvector('pg_catalog.simple'::regconfig, naafe_search_normalize(content))
    || to_tsvector('pg_catalog.arabic'::regconfig, naafe_search_normalize(content))
    || to_tsvector('pg_catalog.english'::regconfig, naafe_search_normalize(content));

-- Stored, so a search reads each candidate's words instead of parsing its text again; the send
-- statement does not name it (PostgreSQL fills it in).
ALTER TABLE "Message" ADD COLUMN "searchVector" tsvector GENERATED ALWAYS AS (naafe_search_vector("content")) STORED;
CREATE INDEX "Message_search_vector_idx" ON "Message" USING gin ("searchVector");
-- Stored for the same reason: a search tests a user's messages for parts of words by reading it
-- instead of normalising every message again.
ALTER TABLE "Message" ADD COLUMN "searchText" text
  GENERATED ALWAYS AS (naafe_search_normalize("content")) STORED;

-- Trigrams for parts of words, numbers and prices ("350", "0100"). pg_trgm lives once per
-- database: in `public` unless it is already installed elsewhere, so every schema sharing the
-- database (DATABASE_SCHEMA, the tests' schemas) finds it and none drops it with its own.
DO $$
DECLARE trgm_schema text;
BEGIN
  SELECT n.nspname INTO trgm_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_trgm';
  IF trgm_schema IS NULL THEN
    CREATE EXTENSION pg_trgm SCHEMA public;
    trgm_schema := 'public';
  END IF;
  EXECUTE format(
    'CREATE INDEX "Message_search_trigram_idx" ON "Message" USING gin ("searchText" %I.gin_trgm_ops)',
    trgm_schema);
END $$;
