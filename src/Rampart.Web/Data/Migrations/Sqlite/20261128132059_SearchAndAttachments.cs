using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rampart.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SearchAndAttachments : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Attachments",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    NoteId = table.Column<string>(type: "TEXT", nullable: false),
                    UploaderId = table.Column<string>(type: "TEXT", nullable: false),
                    FileName = table.Column<string>(type: "TEXT", maxLength: 240, nullable: false),
                    ContentType = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Size = table.Column<long>(type: "INTEGER", nullable: false),
                    StorageName = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Attachments", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Attachments_AspNetUsers_UploaderId",
                        column: x => x.UploaderId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_Attachments_Notes_NoteId",
                        column: x => x.NoteId,
                        principalTable: "Notes",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Attachments_NoteId_CreatedAt",
                table: "Attachments",
                columns: new[] { "NoteId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Attachments_StorageName",
                table: "Attachments",
                column: "StorageName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Attachments_UploaderId",
                table: "Attachments",
                column: "UploaderId");

            // Full-text search (Features/Search/SearchService.cs): an FTS5 table kept in step with Notes by
            // triggers, so every way a note changes (EF, ExecuteDelete, cascades) updates the index. A later
            // migration that makes EF rebuild the Notes table drops these triggers and must create them again.
            migrationBuilder.Sql("""
                CREATE VIRTUAL TABLE "NoteSearch" USING fts5("NoteId" UNINDEXED, "Title", "Markdown", "Tags", tokenize = 'unicode61 remove_diacritics 2');
                """);
            migrationBuilder.Sql("""
                INSERT INTO "NoteSearch" ("NoteId", "Title", "Markdown", "Tags")
                SELECT "Id", "Title", "Markdown", replace("Tags", ',', ' ') FROM "Notes";
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER "Notes_AfterInsert_Search" AFTER INSERT ON "Notes" BEGIN
                    INSERT INTO "NoteSearch" ("NoteId", "Title", "Markdown", "Tags") VALUES (new."Id", new."Title", new."Markdown", replace(new."Tags", ',', ' '));
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER "Notes_AfterUpdate_Search" AFTER UPDATE OF "Title", "Markdown", "Tags" ON "Notes" BEGIN
                    DELETE FROM "NoteSearch" WHERE "NoteId" = old."Id";
                    INSERT INTO "NoteSearch" ("NoteId", "Title", "Markdown", "Tags") VALUES (new."Id", new."Title", new."Markdown", replace(new."Tags", ',', ' '));
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER "Notes_AfterDelete_Search" AFTER DELETE ON "Notes" BEGIN
                    DELETE FROM "NoteSearch" WHERE "NoteId" = old."Id";
                END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""DROP TRIGGER "Notes_AfterDelete_Search";""");
            migrationBuilder.Sql("""DROP TRIGGER "Notes_AfterUpdate_Search";""");
            migrationBuilder.Sql("""DROP TRIGGER "Notes_AfterInsert_Search";""");
            migrationBuilder.Sql("""DROP TABLE "NoteSearch";""");

            migrationBuilder.DropTable(
                name: "Attachments");
        }
    }
}
