/** Money and dates are formatted here only, so every page shows them alike. */
const rupees = new Intl.NumberFormat("en-IN", { style: "currency", currency: "INR" });
const dateTime = new Intl.DateTimeFormat("en-IN", { dateStyle: "medium", timeStyle: "short" });
const dayOnly = new Intl.DateTimeFormat("en-IN", { day: "numeric", month: "short" });

/** The API's money is a decimal string of rupees ("499.00"). */
export const money = (amount: string | number) => rupees.format(Number(amount));
export const when = (iso: string) => dateTime.format(new Date(iso));
export const shortDay = (day: Date) => dayOnly.format(day);
/** "payment_failed" -> "payment failed". */
export const words = (value: string) => value.replace(/_/g, " ");
