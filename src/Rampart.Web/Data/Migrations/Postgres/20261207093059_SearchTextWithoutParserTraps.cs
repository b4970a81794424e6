using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rampart.Web.Data.Migrations.Postgres
{
    /// <summary>
    /// PostgreSQL's default text search parser backtracks on runs it cannot finish as a token: 64 KB of
    /// <c>~/</c> takes 22 s, <c>&lt;!--</c> 4 s, <c>a_</c> and <c>./</c> grow with the square of the length.
    /// A note of such text made its save (the search trigger) and every search that matched it (ts_headline)
    /// run into the command timeout. The parser now sees only what it parses in one pass: ASCII punctuation
    /// becomes a space before <c>to_tsvector</c>, <c>phraseto_tsquery</c> and <c>ts_headline</c>
    /// (<c>rampart_search_text</c>, the one definition), so "example.com" is the phrase "example com" on
    /// both sides and still matches. Existing vectors are recomputed.
    /// </summary>
    public partial class SearchTextWithoutParserTraps : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE FUNCTION rampart_search_text(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                    AS $$ SELECT translate(t, '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', repeat(' ', 32)) $$;
                CREATE OR REPLACE FUNCTION rampart_note_search() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    NEW."SearchVector" :=
                        setweight(to_tsvector('rampart', rampart_search_text(coalesce(NEW."Title", ''))), 'A')
                        || setweight(to_tsvector('rampart', rampart_search_text(array_to_string(NEW."Tags", ' '))), 'B')
                        || setweight(to_tsvector('rampart', rampart_search_text(coalesce(NEW."Markdown", ''))), 'C');
                    RETURN NEW;
                END
                $$;
                UPDATE "Notes" SET "SearchVector" =
                    setweight(to_tsvector('rampart', rampart_search_text(coalesce("Title", ''))), 'A')
                    || setweight(to_tsvector('rampart', rampart_search_text(array_to_string("Tags", ' '))), 'B')
                    || setweight(to_tsvector('rampart', rampart_search_text(coalesce("Markdown", ''))), 'C');
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION rampart_note_search() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    NEW."SearchVector" :=
                        setweight(to_tsvector('rampart', coalesce(NEW."Title", '')), 'A')
                        || setweight(to_tsvector('rampart', array_to_string(NEW."Tags", ' ')), 'B')
                        || setweight(to_tsvector('rampart', coalesce(NEW."Markdown", '')), 'C');
                    RETURN NEW;
                END
                $$;
                UPDATE "Notes" SET "Title" = "Title";
                DROP FUNCTION rampart_search_text(text);
                """);
        }
    }
}
