// Rampart passkeys (WebAuthn): the browser half of "Sign in with a passkey" and "Add a passkey".
// A form marked data-passkey="get" or "create" names where to ask for the ceremony's options
// (data-passkey-options); its button asks the server (a POST with the antiforgery header), runs the
// ceremony in the browser, puts the result (JSON) into the form's CredentialJson field and submits the
// form, so the answer is an ordinary page. No inline script, nothing from elsewhere: CSP unchanged.
(() => {
    'use strict';

    const supported = typeof window.PublicKeyCredential === 'function'
        && typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function'
        && typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function';

    const showError = (form, message) => {
        const box = form.querySelector('[data-passkey-error]');
        if (box) {
            box.textContent = message;
            box.hidden = false;
        }
    };

    const requestOptions = async (form) => {
        const body = new FormData(form);
        body.delete('Input.CredentialJson');
        const response = await fetch(form.dataset.passkeyOptions, {
            method: 'POST',
            credentials: 'same-origin',
            headers: { [form.dataset.csrfHeader || 'X-CSRF-Token']: body.get('__RequestVerificationToken') || '' },
            body,
        });
        if (!response.ok) {
            let detail = '';
            try {
                detail = (await response.json()).detail || '';
            } catch {
                // not a problem document
            }
            throw new Error(detail || `The server refused (${response.status}). Reload the page and try again.`);
        }
        return response.json();
    };

    const ceremony = async (form) => {
        const options = await requestOptions(form);
        if (form.dataset.passkey === 'create') {
            return navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
        }
        return navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
    };

    for (const form of document.querySelectorAll('form[data-passkey]')) {
        const button = form.querySelector('[data-passkey-start]');
        if (!button) {
            continue;
        }
        if (!supported) {
            button.disabled = true;
            showError(form, 'This browser cannot use passkeys.');
            continue;
        }
        button.addEventListener('click', async () => {
            button.disabled = true;
            try {
                const credential = await ceremony(form);
                form.querySelector('input[name="Input.CredentialJson"]').value = JSON.stringify(credential);
                for (const copy of form.querySelectorAll('[data-passkey-remember-from]')) {
                    const source = document.getElementById(copy.dataset.passkeyRememberFrom);
                    copy.value = source && source.checked ? 'true' : 'false';
                }
                form.submit();
            } catch (error) {
                showError(form, error && error.name === 'NotAllowedError'
                    ? 'The passkey request was cancelled or timed out.'
                    : (error && error.message) || 'The passkey could not be used.');
                button.disabled = false;
            }
        });
    }
})();
