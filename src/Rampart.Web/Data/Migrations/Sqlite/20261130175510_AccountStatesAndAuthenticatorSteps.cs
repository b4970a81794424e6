using System.Globalization;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

#nullable disable

namespace Rampart.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AccountStatesAndAuthenticatorSteps : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "LastAuthenticatorTimeStep",
                table: "AspNetUsers",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "LockedAt",
                table: "AspNetUsers",
                type: "INTEGER",
                nullable: true);

            // An administrator's lock and disable used to be a lockout until the end of time; they are
            // their own states now, and the failed-guess lockout is Identity's alone again.
            var converter = new DateTimeOffsetToBinaryConverter();
            var forever = ((long)converter.ConvertToProvider(DateTimeOffset.MaxValue)!).ToString(CultureInfo.InvariantCulture);
            var now = ((long)converter.ConvertToProvider(DateTimeOffset.UtcNow)!).ToString(CultureInfo.InvariantCulture);
            migrationBuilder.Sql($"UPDATE \"AspNetUsers\" SET \"LockedAt\" = {now} WHERE \"LockoutEnd\" = {forever} AND \"DisabledAt\" IS NULL;");
            migrationBuilder.Sql($"UPDATE \"AspNetUsers\" SET \"LockoutEnd\" = NULL WHERE \"LockoutEnd\" = {forever};");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "LastAuthenticatorTimeStep",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "LockedAt",
                table: "AspNetUsers");
        }
    }
}
