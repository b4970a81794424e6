using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Rampart.Web.Data;
using Rampart.Web.Features.Audit;
using Rampart.Web.Features.Sessions;
using Rampart.Web.Features.Setup;

namespace Rampart.Web.Features.Accounts;

public static class AccountsExtensions
{
    public const string SessionCookieName = RampartHardeningExtensions.CookiePrefix + "rampart-session";

    /// <summary>
    /// ASP.NET Core Identity on EF Core, tightened: Argon2id and the NIST/ASVS policy (from the
    /// hardening layer), server-side sessions, single-use mail tokens, hashed recovery codes, every
    /// cookie <c>__Host-</c>, and the audit log.
    /// </summary>
    public static WebApplicationBuilder AddAccounts(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddHttpContextAccessor();
        services.AddOptions<SessionLifetimeOptions>().BindConfiguration(SessionLifetimeOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        services.AddIdentity<User, IdentityRole>(identity =>
            {
                // Version 3 adds Identity's passkey table (WebAuthn credentials).
                identity.Stores.SchemaVersion = IdentitySchemaVersions.Version3;
                identity.User.RequireUniqueEmail = true;
                identity.User.AllowedUserNameCharacters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._";
                identity.SignIn.RequireConfirmedEmail = true;
                identity.Lockout.MaxFailedAccessAttempts = 5;
                identity.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(1);
                identity.Lockout.AllowedForNewUsers = true;
                identity.Tokens.PasswordResetTokenProvider = AccountTokenProvider.Name;
                identity.Tokens.EmailConfirmationTokenProvider = AccountTokenProvider.Name;
                identity.Tokens.ChangeEmailTokenProvider = AccountTokenProvider.Name;
                identity.Tokens.AuthenticatorTokenProvider = AuthenticatorCodeProvider.Name;
            })
            .AddEntityFrameworkStores<RampartDbContext>()
            .AddUserStore<RampartUserStore>()
            .AddSignInManager<RampartSignInManager>()
            .AddUserManager<RampartUserManager>()
            .AddClaimsPrincipalFactory<RampartClaimsPrincipalFactory>()
            .AddTokenProvider<AccountTokenProvider>(AccountTokenProvider.Name)
            .AddTokenProvider<AuthenticatorCodeProvider>(AuthenticatorCodeProvider.Name)
            .AddRampartPasswordSecurity();

        services.AddSingleton<ITicketStore, DatabaseTicketStore>();
        services.ConfigureApplicationCookie(cookie =>
        {
            cookie.Cookie.Name = SessionCookieName;
            cookie.LoginPath = "/account/login";
            cookie.LogoutPath = "/account/logout";
            cookie.AccessDeniedPath = "/account/access-denied";
            cookie.ReturnUrlParameter = "returnUrl";
            // Lifetimes are the session store's job (idle and absolute); the cookie never slides.
            cookie.SlidingExpiration = false;
            cookie.ExpireTimeSpan = TimeSpan.FromDays(400);
            cookie.Events.OnRedirectToLogin = context =>
            {
                // API clients get a 401, browsers the sign-in page.
                if (context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    return Task.CompletedTask;
                }

                // A relative redirect: never one built from the request's Host header.
                context.Response.Redirect(new Uri(context.RedirectUri, UriKind.RelativeOrAbsolute) is { IsAbsoluteUri: true } absolute ? absolute.PathAndQuery : context.RedirectUri);
                return Task.CompletedTask;
            };
            // Every sign-in, whatever its path, records the browser; a new one tells the owner (not a session's renewal).
            cookie.Events.OnSignedIn = KnownDevices.OnSignedInAsync;
            // A 403, recorded (coalesced) as a security event with every other refusal by the hardening layer.
            cookie.Events.OnRedirectToAccessDenied = context =>
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            };
        });
        services.AddOptions<CookieAuthenticationOptions>(IdentityConstants.ApplicationScheme)
            .Configure<ITicketStore>((cookie, store) => cookie.SessionStore = store);
        HardenCookie(services, IdentityConstants.ExternalScheme, "rampart-external");
        HardenCookie(services, IdentityConstants.TwoFactorUserIdScheme, "rampart-2fa");
        HardenCookie(services, IdentityConstants.TwoFactorRememberMeScheme, "rampart-2fa-remember");
        services.Configure<SecurityStampValidatorOptions>(o =>
        {
            o.ValidationInterval = TimeSpan.FromMinutes(5);
            // The principal made again every 5 minutes keeps what the session store added to it (which session
            // this is, how the request was authenticated), or that request would not know its own session.
            o.OnRefreshingPrincipal = context =>
            {
                if (context.NewPrincipal?.Identity is System.Security.Claims.ClaimsIdentity renewed && context.CurrentPrincipal is { } current)
                {
                    foreach (var claim in current.Claims.Where(c => c.Type is DatabaseTicketStore.SessionClaim or Hardening.Authentication.RampartClaimTypes.Credential).ToList())
                    {
                        renewed.AddClaim(new System.Security.Claims.Claim(claim.Type, claim.Value));
                    }
                }

                return Task.CompletedTask;
            };
        });

        services.AddOptions<AccountOptions>().BindConfiguration(AccountOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<TwoFactorRequirement>();
        services.AddPasskeys();
        services.AddScoped<SignInService>();
        services.AddScoped<SessionService>();
        services.AddScoped<CurrentUser>();
        services.AddScoped<AccountLinks>();
        services.AddScoped<AccountCredentials>();
        services.AddScoped<AccountNotices>();
        services.AddScoped<KnownDevices>();
        services.AddAudit();
        services.AddScoped<AccountMail>();
        services.AddScoped<Reauthentication>();
        services.AddScoped<Admin.AccountAdministration>();
        services.AddSingleton<SetupToken>();
        services.AddHostedService<SetupAnnouncer>();

        services.AddAuthorizationBuilder().AddPolicy(AdminPolicy, policy => policy.RequireAuthenticatedUser().RequireRole(Roles.Admin));
        return builder;
    }

    public const string AdminPolicy = "admin";

    /// <summary>An account that must enrol a second factor reaches only enrolment until it has (after authentication).</summary>
    public static IApplicationBuilder UseTwoFactorEnrolment(this IApplicationBuilder app) => app.UseMiddleware<TwoFactorEnrolmentMiddleware>();

    private static void HardenCookie(IServiceCollection services, string scheme, string name) =>
        services.Configure<CookieAuthenticationOptions>(scheme, cookie =>
        {
            cookie.Cookie.Name = RampartHardeningExtensions.CookiePrefix + name;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.Cookie.Path = "/";
        });
}
