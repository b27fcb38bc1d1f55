/** The Official Account follow-to-login flow's adapter between the webhook and the login pipeline. */
package io.scangate.officialaccount;
