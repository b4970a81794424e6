using System.Net;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rampart.Hardening;
using Rampart.Hardening.Csrf;
using Rampart.Hardening.Diagnostics;
using Rampart.Hardening.Errors;
using Rampart.Hardening.Headers;
using Rampart.Hardening.Https;
using Rampart.Hardening.Identity;
using Rampart.Hardening.RateLimiting;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adopts the security layer in any ASP.NET Core app: two calls, <c>builder.AddRampartHardening()</c> and <c>app.UseRampartHardening()</c>.</summary>
public static class RampartHardeningExtensions
{
    /// <summary>Name prefix every cookie of the app carries: Secure, no Domain, Path=/.</summary>
    public const string CookiePrefix = "__Host-";

    /// <summary>Name of the antiforgery cookie.</summary>
    public const string AntiforgeryCookieName = CookiePrefix + "csrf";

    /// <summary>Name of the antiforgery form field.</summary>
    public const string AntiforgeryFieldName = "__RequestVerificationToken";

    /// <summary>
    /// Name of the header policy for user-supplied files (<c>WithSecurityHeadersPolicy(DownloadHeaderPolicy)</c>):
    /// the usual headers with a CSP of <c>default-src 'none'; sandbox</c>, so a file that a browser does open
    /// runs nothing and reaches nothing, and is its own opaque origin.
    /// </summary>
    public const string DownloadHeaderPolicy = "rampart-download";

    /// <summary>
    /// Name of the header policy every JSON answer gets (chosen from its content type when it starts): the usual
    /// headers with a CSP of <c>default-src 'none'; frame-ancestors 'none'</c> and no nonce.
    /// </summary>
    public const string DataHeaderPolicy = "rampart-data";

    /// <summary>
    /// Registers the layer: options bound from <c>Rampart:Hardening</c> (validated at start),
    /// Kestrel's limits and TLS settings, security headers, cookie policy,
    /// antiforgery, rate limits (the sign-in budgets counted inside ASP.NET Core Identity's sign-in manager, when the
    /// app uses Identity), error answers. It sets no addresses, keys or certificates of its own: the app's
    /// (or the framework's defaults) stay in force.
    /// </summary>
    /// <param name="builder">The app's builder.</param>
    public static WebApplicationBuilder AddRampartHardening(this WebApplicationBuilder builder) => AddLayer(builder, configure: null);

    /// <summary>
    /// <see cref="AddRampartHardening(WebApplicationBuilder)"/>, with <paramref name="configure"/> applied to the options after
    /// configuration is bound (and before they are validated at start).
    /// </summary>
    /// <param name="builder">The app's builder.</param>
    /// <param name="configure">Changes to the options, e.g. <c>options =&gt; options.Headers.AllowDataImages = false</c>.</param>
    public static WebApplicationBuilder AddRampartHardening(this WebApplicationBuilder builder, Action<RampartHardeningOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return AddLayer(builder, configure);
    }

    private static WebApplicationBuilder AddLayer(WebApplicationBuilder builder, Action<RampartHardeningOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddLayer(builder.Services, configure);

        // Hosting's "Request starting/finished" lines carry the full URL, query string included, where
        // reset and confirmation tokens travel. RequestLoggingMiddleware logs requests without it.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        ConfigureLogFormat(builder);
        ConfigureKestrel(builder);
        var development = builder.Environment.IsDevelopment();
        builder.Host.UseServiceProviderFactory(new SignInLimitsServiceProviderFactory(new ServiceProviderOptions
        {
            // What WebApplicationBuilder's own factory does.
            ValidateScopes = development,
            ValidateOnBuild = development,
        }));
        return builder;
    }

    /// <summary>
    /// Registers the layer's services without touching the host: what <see cref="AddRampartHardening(WebApplicationBuilder)"/>
    /// does except Kestrel's limits and TLS settings, the log format, shared (Redis) counters and the sign-in budgets
    /// inside Identity's sign-in manager (call <see cref="AccountAttemptLimiter"/> from the app's sign-in code instead).
    /// Shared counters for several instances come with the <c>Rampart.Hardening.Redis</c> package.
    /// </summary>
    /// <param name="services">The app's services.</param>
    public static IServiceCollection AddRampartHardening(this IServiceCollection services) => AddLayer(services, configure: null);

    /// <summary>
    /// <see cref="AddRampartHardening(IServiceCollection)"/>, with <paramref name="configure"/> applied to the options
    /// after configuration is bound.
    /// </summary>
    /// <param name="services">The app's services.</param>
    /// <param name="configure">Changes to the options.</param>
    public static IServiceCollection AddRampartHardening(this IServiceCollection services, Action<RampartHardeningOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return AddLayer(services, configure);
    }

    private static IServiceCollection AddLayer(IServiceCollection services, Action<RampartHardeningOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<RampartHardeningOptions>()
            .BindConfiguration(RampartHardeningOptions.SectionName)
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.AddSingleton<IPostConfigureOptions<RampartHardeningOptions>, HardeningOptionsDefaults>();
        services.AddSingleton<IValidateOptions<RampartHardeningOptions>, HardeningOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpContextAccessor();

        ConfigureCookiesAndAntiforgery(services);

        services.AddSingleton<ErrorResponses>();
        services.AddProblemDetails(problem => problem.CustomizeProblemDetails += context =>
            context.ProblemDetails.Extensions["traceId"] = ErrorResponses.TraceIdOf(context.HttpContext));
        services.AddExceptionHandler<TooManyAttemptsExceptionHandler>();
        services.AddSingleton<SecurityEvents>();
        services.TryAddSingleton<HardeningMetrics>();
        services.AddSingleton<FormValidationEvents>();
        services.Configure<Microsoft.AspNetCore.Mvc.MvcOptions>(mvc => mvc.Filters.AddService<FormValidationEvents>());
        services.AddSingleton<ISecurityEventSink, LoggingSecurityEventSink>();

        services.TryAddSingleton<IRateLimitCounterStore, InMemoryRateLimitCounterStore>();
        services.AddRateLimiter(RampartRateLimits.Configure);
        services.AddSingleton<AccountAttemptLimiter>();
        services.AddSingleton<AddressAttemptLimiter>();
        services.AddSingleton<SignInAttempts>();

        services.AddSecurityHeaderPolicies((policies, provider) =>
        {
            var hardening = provider.GetRequiredService<IOptions<RampartHardeningOptions>>().Value;
            policies.SetDefaultPolicy(SecurityHeaderPolicy.Build(hardening));
            policies.AddPolicy(DownloadHeaderPolicy, SecurityHeaderPolicy.BuildDownload(hardening));
            policies.AddPolicy(DataHeaderPolicy, SecurityHeaderPolicy.BuildData(hardening));
            // Decided when the answer starts, from what it is: a JSON answer under the default policy gets the
            // data policy (no nonce to make); an endpoint's own choice (downloads) stands.
            policies.SetPolicySelector(selection =>
                ReferenceEquals(selection.SelectedPolicy, selection.DefaultPolicy) && SecurityHeaderPolicy.IsJson(selection.HttpContext.Response.ContentType)
                    ? selection.ConfiguredPolicies[DataHeaderPolicy]
                    : selection.SelectedPolicy);
        });

        services.AddSingleton<PublicOrigin>();
        // Host filtering from the public origin: a Host the app does not serve is a 400, so nothing built
        // later from the request (a framework's absolute URL, a log line) can carry a forged one.
        services.AddHostFiltering(_ => { });
        services.AddOptions<HostFilteringOptions>().Configure<PublicOrigin, IOptions<RampartHardeningOptions>>((filter, origin, hardening) =>
        {
            filter.AllowedHosts = [origin.Host, .. hardening.Value.AllowedHosts];
            filter.AllowEmptyHosts = false;
            filter.IncludeFailureMessage = false;
        });
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<RampartHardeningOptions>>((forwarded, hardening) =>
            ConfigureForwardedHeaders(forwarded, hardening.Value.ForwardedHeaders));

        services.AddAuthentication();
        services.AddAuthorization();
        services.AddSingleton<ServerCertificate>();
        return services;
    }

    /// <summary>
    /// Builds the layer's part of the request pipeline, in this order: forwarded headers (trusted proxies only),
    /// host filtering (the public origin's host and <c>AllowedHosts</c>), request log, security headers, cache
    /// control, HTTPS redirect to the public origin, error answers, TRACE refusal, routing, body size limits,
    /// the per-address and global rate limits, authentication, authorization, per-credential rate limits, CSRF,
    /// antiforgery, per-account write limits. Call it once, first; the app's own middleware follows — its exception
    /// handler, status pages, static assets, and the framework's rate limiter for its own policies
    /// (<c>app.UseRateLimiter()</c>, which then runs after authentication, so a policy partitioned on the signed-in
    /// user sees the user) — and its endpoints.
    /// </summary>
    public static WebApplication UseRampartHardening(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var hardening = app.Services.GetRequiredService<IOptions<RampartHardeningOptions>>().Value;

        if (hardening.ForwardedHeaders.KnownProxies.Count > 0 || hardening.ForwardedHeaders.KnownNetworks.Count > 0)
        {
            app.UseForwardedHeaders();
        }

        app.UseHostFiltering();
        app.UseMiddleware<RequestLoggingMiddleware>();
        app.UseSecurityHeaders();
        app.UseMiddleware<CacheControlMiddleware>();
        app.UseMiddleware<HttpsRedirectMiddleware>();

        var errors = app.Services.GetRequiredService<ErrorResponses>();
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler(new ExceptionHandlerOptions
            {
                // Kestrel's own request errors (body too large, bad framing) keep their status;
                // everything else is a 500 whose text never leaves the server.
                StatusCodeSelector = exception => exception switch
                {
                    BadHttpRequestException bad => bad.StatusCode,
                    // The database or another backing service is away: 503, never a 500 with details, and
                    // nothing signed out (authentication failed by throwing, so no cookie was cleared).
                    _ when ErrorResponses.IsOutage(exception) => StatusCodes.Status503ServiceUnavailable,
                    // Malformed input found by a framework reader (a broken form or multipart body).
                    AntiforgeryValidationException or InvalidDataException => StatusCodes.Status400BadRequest,
                    _ => StatusCodes.Status500InternalServerError,
                },
                ExceptionHandler = context =>
                {
                    if (context.Response.StatusCode == StatusCodes.Status503ServiceUnavailable)
                    {
                        context.Response.Headers.RetryAfter = "5";
                    }

                    return errors.WriteAsync(context, context.Response.StatusCode);
                },
            });
        }

        app.UseStatusCodePages(context => errors.WriteAsync(context.HttpContext, context.HttpContext.Response.StatusCode));
        app.UseCookiePolicy();

        // TRACE echoes requests (cross-site tracing); nothing in an app needs it.
        app.Use((context, next) =>
            HttpMethods.IsTrace(context.Request.Method) || string.Equals(context.Request.Method, "TRACK", StringComparison.OrdinalIgnoreCase)
                ? errors.WriteAsync(context, StatusCodes.Status405MethodNotAllowed)
                : next(context));
        app.UseRouting();
        app.UseMiddleware<ImportMapHashMiddleware>();
        app.UseMiddleware<SecurityOutcomeMiddleware>();
        app.UseMiddleware<BodySizeLimitMiddleware>();
        app.UseMiddleware<TooManyAttemptsMiddleware>();
        app.UseMiddleware<AddressRateLimitMiddleware>();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMiddleware<CredentialRateLimitMiddleware>();
        app.UseMiddleware<CsrfProtectionMiddleware>();
        app.UseAntiforgery();
        app.UseMiddleware<AccountWriteLimitMiddleware>();
        return app;
    }

    /// <summary>The configuration key choosing the console log format: <c>text</c> (default) or <c>json</c>.</summary>
    public const string LogFormatKey = "Rampart:Logging:Format";

    /// <summary>
    /// <c>Rampart:Logging:Format=json</c>: one JSON object per line (ASVS 5.0 V16.2.4), with the UTC ISO-8601 time
    /// (V16.2.2), level, category, event id, message, the structured fields, and the trace id from the scope. The
    /// same entries as the text format, so what is never logged (secrets, query strings, bodies) stays unlogged.
    /// </summary>
    private static void ConfigureLogFormat(WebApplicationBuilder builder)
    {
        var format = builder.Configuration[LogFormatKey];
        if (string.Equals(format, "json", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.AddJsonConsole(json =>
            {
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                json.IncludeScopes = true;
                json.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
            });
        }
        else if (format is not null && !string.Equals(format, "text", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{LogFormatKey} must be 'text' or 'json': '{format}'.");
        }
    }

    private static void ConfigureKestrel(WebApplicationBuilder builder) =>
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var hardening = kestrel.ApplicationServices.GetRequiredService<IOptions<RampartHardeningOptions>>().Value;
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = hardening.Limits.MaxRequestBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            kestrel.Limits.MaxRequestLineSize = 8 * 1024;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
            kestrel.ConfigureHttpsDefaults(https =>
            {
                // Only a certificate the app asked the layer for (Https:CertificatePath or Https:SelfSignedCertificateDirectory);
                // otherwise Kestrel's own choice (Kestrel:Certificates:Default, the development certificate) stands.
                if (https.ServerCertificate is null && kestrel.ApplicationServices.GetRequiredService<ServerCertificate>().Certificate is { } certificate)
                {
                    https.ServerCertificate = certificate;
                }

                https.SslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13;
                if (TlsCipherSuites.Policy() is { } suites)
                {
                    https.OnAuthenticate = (_, ssl) => ssl.CipherSuitesPolicy = suites;
                }
            });
        });

    private static void ConfigureCookiesAndAntiforgery(IServiceCollection services)
    {
        services.Configure<CookiePolicyOptions>(policy =>
        {
            policy.MinimumSameSitePolicy = SameSiteMode.Lax;
            policy.HttpOnly = Microsoft.AspNetCore.CookiePolicy.HttpOnlyPolicy.Always;
            policy.Secure = CookieSecurePolicy.Always;
        });

        services.AddSingleton<IPostConfigureOptions<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions>, HostPrefixedCookies>();
        services.PostConfigure<Microsoft.AspNetCore.Mvc.CookieTempDataProviderOptions>(tempData => HostPrefixedCookies.Prefix(tempData.Cookie, null));
        services.PostConfigure<Microsoft.AspNetCore.Builder.SessionOptions>(session => HostPrefixedCookies.Prefix(session.Cookie, null));
        services.AddTransient<Microsoft.AspNetCore.Razor.TagHelpers.ITagHelperComponent, LocalFallbackScripts>();
        services.AddAntiforgery();
        services.AddOptions<AntiforgeryOptions>().Configure<IOptions<RampartHardeningOptions>>((antiforgery, hardening) =>
        {
            antiforgery.Cookie.Name = AntiforgeryCookieName;
            antiforgery.Cookie.Path = "/";
            antiforgery.Cookie.Domain = null;
            antiforgery.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            antiforgery.Cookie.HttpOnly = true;
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            antiforgery.FormFieldName = AntiforgeryFieldName;
            antiforgery.HeaderName = hardening.Value.Csrf.HeaderName;
            // The security headers already deny framing, more strictly than antiforgery's SAMEORIGIN.
            antiforgery.SuppressXFrameOptionsHeader = true;
        });
    }

    private static void ConfigureForwardedHeaders(ForwardedHeadersOptions forwarded, ForwardedHeadersSettings settings)
    {
        forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
        forwarded.ForwardLimit = settings.ForwardLimit;
        // The framework trusts loopback by default; Rampart trusts only what is configured.
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
        foreach (var proxy in settings.KnownProxies)
        {
            forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
        }

        foreach (var network in settings.KnownNetworks)
        {
            forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
        }
    }
}

/// <summary>
/// Gives every authentication cookie of the app (and its TempData and session cookies) the <c>__Host-</c> prefix (RFC 6265bis; ASVS 5.0 V3.3.1), so no
/// sibling subdomain or plain-HTTP page can set or overwrite it: Secure, no Domain, Path=/. A cookie the app already
/// named with <c>__Host-</c> or <c>__Secure-</c>, or scoped to a domain or path, is left as it is. The framework's default
/// names (<c>.AspNetCore.{scheme}</c>, Identity's <c>.AspNetCore.Identity.Application</c>) become <c>__Host-.AspNetCore.{scheme}</c>;
/// adopting the layer therefore signs everyone out once.
/// </summary>
internal sealed class HostPrefixedCookies : IPostConfigureOptions<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions>
{
    public void PostConfigure(string? name, Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions options) =>
        // Runs before the cookie handler's own post-configure, which would name it .AspNetCore.{scheme}.
        Prefix(options.Cookie, Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationDefaults.CookiePrefix + name);

    /// <summary>Prefixes <paramref name="cookie"/>'s name (or <paramref name="defaultName"/> when it has none yet) with <c>__Host-</c>.</summary>
    internal static void Prefix(CookieBuilder cookie, string? defaultName)
    {
        if (cookie.Domain is not null || cookie.Path is not (null or "/"))
        {
            return;
        }

        var cookieName = cookie.Name ?? defaultName;
        if (cookieName is null)
        {
            return;
        }

        if (!cookieName.StartsWith(RampartHardeningExtensions.CookiePrefix, StringComparison.Ordinal) && !cookieName.StartsWith("__Secure-", StringComparison.Ordinal))
        {
            cookie.Name = RampartHardeningExtensions.CookiePrefix + cookieName;
            cookie.Path = "/";
            cookie.SecurePolicy = CookieSecurePolicy.Always;
        }
    }
}
