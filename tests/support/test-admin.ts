/** The administrator every test platform and server process creates on first start (XRM_ADMIN_EMAIL, …PASSWORD). */
export const TEST_ADMIN = Object.freeze({ email: 'admin@xrm.test', password: 'test-admin-password' });
