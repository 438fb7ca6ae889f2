-- Attachment names are searched with their message (packages/api/src/search). Stored generated
-- columns, as for Message (*_message_search): the upload's INSERT fills them in, nothing in the
-- application writes them, and a search reads them instead of parsing names again.

-- A file name's words: normalised as message text is, with the characters that join words in
-- file names (. _ - + ~ @) read as spaces, so "quote-final_v2.pdf" is the words quote, final,
-- v2 and pdf rather than one token the text search parser reads as a host or file name.
CREATE FUNCTION naafe_search_file_name(name text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN translate(naafe_search_normalize(name), '._-+~@', '      ');

-- A message's file names' words together (tsvector || tsvector, positions continued).
CREATE AGGREGATE naafe_search_vector_agg(tsvector) (SFUNC = tsvector_concat, STYPE = tsvector, INITCOND = '');

ALTER TABLE "Attachment" ADD COLUMN "searchVector" tsvector
  GENERATED ALWAYS AS (naafe_search_vector(naafe_search_file_name("name"))) STORED;
ALTER TABLE "Attachment" ADD COLUMN "searchText" text
  GENERATED ALWAYS AS (naafe_search_file_name("name")) STORED;

-- A search's files: the bound attachments of the caller's conversations.
CREATE INDEX "Attachment_conversationId_messageId_idx" ON "Attachment"("conversationId", "messageId");
