using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Rampart.Web.Features.Home;

/// <summary>
/// Binds form booleans (checkboxes) so that a value other than true/false is a form error, not a crash.
/// MVC's own binder records the error but keeps the raw value, and the checkbox tag helper then throws a
/// FormatException converting it back when the form is shown again (a 500 that wapiti found by posting
/// <c>Input.RememberMe=&lt;script&gt;</c> to the sign-in page). Here the remembered value becomes <c>false</c>.
/// </summary>
internal sealed class LenientBooleanModelBinder : IModelBinder
{
    public Task BindModelAsync(ModelBindingContext bindingContext)
    {
        ArgumentNullException.ThrowIfNull(bindingContext);
        var values = bindingContext.ValueProvider.GetValue(bindingContext.ModelName);
        if (values == ValueProviderResult.None)
        {
            return Task.CompletedTask;
        }

        // A checkbox posts "true" and its hidden "false"; the first value decides.
        if (bool.TryParse(values.FirstValue, out var value))
        {
            bindingContext.ModelState.SetModelValue(bindingContext.ModelName, values);
            bindingContext.Result = ModelBindingResult.Success(value);
            return Task.CompletedTask;
        }

        bindingContext.ModelState.SetModelValue(bindingContext.ModelName, new ValueProviderResult("false"));
        bindingContext.ModelState.TryAddModelError(bindingContext.ModelName, "Tick the box or leave it empty.");
        bindingContext.Result = ModelBindingResult.Failed();
        return Task.CompletedTask;
    }
}

internal sealed class LenientBooleanModelBinderProvider : IModelBinderProvider
{
    public IModelBinder? GetBinder(ModelBinderProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Metadata.UnderlyingOrModelType == typeof(bool) ? new LenientBooleanModelBinder() : null;
    }
}
