using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Rampart.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AuditChain : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_UserId_OccurredAt",
                table: "AuditEvents");

            migrationBuilder.AddColumn<string>(
                name: "Hash",
                table: "AuditEvents",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "OccurredHour",
                table: "AuditEvents",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "Sequence",
                table: "AuditEvents",
                type: "bigint",
                nullable: true);

            // Rows written before this migration get their dashboard hour from their time (UTC); the chain seals
            // them, oldest first, at the next audit write.
            migrationBuilder.Sql("""UPDATE "AuditEvents" SET "OccurredHour" = floor(extract(epoch from "OccurredAt") / 3600)::bigint;""");

            migrationBuilder.CreateTable(
                name: "AuditAnchors",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Sequence = table.Column<long>(type: "bigint", nullable: false),
                    Hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    PrunedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Removed = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditAnchors", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_IpAddress_Id",
                table: "AuditEvents",
                columns: new[] { "IpAddress", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_Kind_Id",
                table: "AuditEvents",
                columns: new[] { "Kind", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_Kind_OccurredHour_IpAddress",
                table: "AuditEvents",
                columns: new[] { "Kind", "OccurredHour", "IpAddress" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_Sequence",
                table: "AuditEvents",
                column: "Sequence",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_UserId_Id",
                table: "AuditEvents",
                columns: new[] { "UserId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_UserName_Id",
                table: "AuditEvents",
                columns: new[] { "UserName", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AuditAnchors");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_IpAddress_Id",
                table: "AuditEvents");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_Kind_Id",
                table: "AuditEvents");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_Kind_OccurredHour_IpAddress",
                table: "AuditEvents");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_Sequence",
                table: "AuditEvents");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_UserId_Id",
                table: "AuditEvents");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_UserName_Id",
                table: "AuditEvents");

            migrationBuilder.DropColumn(
                name: "Hash",
                table: "AuditEvents");

            migrationBuilder.DropColumn(
                name: "OccurredHour",
                table: "AuditEvents");

            migrationBuilder.DropColumn(
                name: "Sequence",
                table: "AuditEvents");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_UserId_OccurredAt",
                table: "AuditEvents",
                columns: new[] { "UserId", "OccurredAt" });
        }
    }
}
