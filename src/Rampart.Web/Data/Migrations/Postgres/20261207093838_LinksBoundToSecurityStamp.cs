using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rampart.Web.Data.Migrations.Postgres
{
    /// <summary>
    /// Mailed links carry the SHA-256 of the security stamp they were made under (decision 0019). Links still
    /// unused when this runs have none and no longer work: their owners ask for a new one.
    /// </summary>
    public partial class LinksBoundToSecurityStamp : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "StampHash",
                table: "AccountTokens",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "StampHash",
                table: "AccountTokens");
        }
    }
}
