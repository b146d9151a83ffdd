"""The invoice payment flow: pay-by-link pages, reminders, and the emails sent to payors."""
